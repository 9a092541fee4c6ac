variable "name" {
  description = "Name prefix."
  type        = string
}

variable "enable_cloudtrail" {
  description = "Build the management-events trail (ADR 0014)."
  type        = bool
}

variable "enable_config_rules" {
  description = "Build the Config recorder and rules (ADR 0015)."
  type        = bool
}

variable "enable_dr_test" {
  description = "Build the monthly DR test (ADR 0016)."
  type        = bool
}

variable "log_retention_days" {
  description = "Days the audit logs are kept in S3."
  type        = number
}

variable "noncurrent_version_days" {
  description = "Old versions of audit objects expire after this many days."
  type        = number
}

variable "launch_template_id" {
  description = "The node's launch template (the DR test boots a copy of the node from it)."
  type        = string
}

variable "node_role_arn" {
  description = "The node's role, passed to the DR instance through its profile."
  type        = string
}

variable "ready_parameter_prefix" {
  description = "Where a booted node marks itself ready (/<name>/ready/)."
  type        = string
}

variable "ami_parameter_name" {
  description = "SSM parameter with the AMI id, resolved by the launch template."
  type        = string
}

variable "node_tag_key" {
  description = "The router's node tag key; the DR instance gets a different value."
  type        = string
}
