variable "name" {
  description = "Name prefix; also the SSM path prefix /<name>/."
  type        = string
}

variable "instance_type" {
  description = "GPU instance type."
  type        = string
}

variable "node_count" {
  description = "How many GPU instances (node_count_max): each tagged as the node, each stopped until started."
  type        = number
  validation {
    condition     = var.node_count >= 1 && var.node_count <= 8 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number from 1 to 8."
  }
}

variable "subnet_id" {
  description = "Public subnet the nodes run in."
  type        = string
}

variable "security_group_id" {
  description = "The node's group (no inbound)."
  type        = string
}

variable "root_volume_gb" {
  description = "Root gp3 size in GiB."
  type        = number
}

variable "ami_parameter_name" {
  description = "SSM parameter with the AMI id (data type aws:ec2:image)."
  type        = string
}

variable "node_tag_key" {
  description = "Tag the router finds the node by (TLFIF_NODE_TAG_KEY)."
  type        = string
}

variable "node_tag_value" {
  description = "Its value (TLFIF_NODE_TAG_VALUE)."
  type        = string
}

variable "replies_bucket_arn" {
  description = "Where the watcher writes replies."
  type        = string
}

variable "models_bucket_arn" {
  description = "Where LoRA adapters are read from."
  type        = string
}

variable "node_env" {
  description = "Non-secret watcher settings, written to SSM under /<name>/node/env/."
  type        = map(string)
}

variable "redis_url" {
  description = "TLFIF_REDIS_URL, stored as a SecureString."
  type        = string
  sensitive   = true
}

variable "log_retention_days" {
  description = "Retention of the node's log groups."
  type        = number
}
