variable "name" {
  description = "Name prefix; functions are <name>-<function>."
  type        = string
}

variable "functions" {
  description = "Per function: handler, memory_mb, timeout_s, in_vpc, env (extra variables), reserved (concurrency; -1 unreserved); runs (another function's zip, role and log group, run another way), layers, function_url (a public, streamed function URL on its prod alias, ADR 0028); tracing (X-Ray: Active, or PassThrough where each minute's run would only fill the free traces, ADR 0033)."
  type = map(object({
    handler      = string
    memory_mb    = number
    timeout_s    = number
    in_vpc       = bool
    env          = map(string)
    reserved     = optional(number, -1)
    runs         = optional(string)
    layers       = optional(list(string), [])
    function_url = optional(bool, false)
    tracing      = optional(string, "Active")
  }))
}

variable "common_env" {
  description = "TLFIF_* settings every function shares (non-secret)."
  type        = map(string)
}

variable "redis_url" {
  description = "TLFIF_REDIS_URL for the functions in the VPC."
  type        = string
  sensitive   = true
}

variable "zip_dir" {
  description = "Directory with <function>.zip from `make lambda-package`."
  type        = string
}

variable "architecture" {
  description = "x86_64 or arm64."
  type        = string
}

variable "pinned_versions" {
  description = "Function -> version the prod alias keeps (roll-back)."
  type        = map(string)
}

variable "subnet_ids" {
  description = "Private dual-stack subnets."
  type        = list(string)
}

variable "security_group_id" {
  description = "The Lambdas' group."
  type        = string
}

variable "dualstack" {
  description = "Use AWS's dual-stack (IPv6) endpoints from the VPC (router_ec2_path = dualstack)."
  type        = bool
}

variable "replies_bucket_arn" {
  description = "Replies bucket: read by the router and the webhook sender, its webhook records and secrets written by the router."
  type        = string
}

variable "reply_topic_arn" {
  description = "The replies topic, published to by the webhook sender (ADR 0031)."
  type        = string
}

variable "node_tag_key" {
  description = "The node's tag key; EC2 start/stop is limited to instances carrying it."
  type        = string
}

variable "node_tag_value" {
  description = "The node's tag value."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of /aws/lambda/<function>."
  type        = number
}

variable "version_parameter_name" {
  description = "SSM parameter recording the prod alias's version of each function (the seed's /tl-fif/lambda_prod_version)."
  type        = string
}
