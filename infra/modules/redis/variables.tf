variable "name" {
  description = "Name prefix."
  type        = string
}

variable "mode" {
  description = "serverless or node (ADR 0012)."
  type        = string
}

variable "node_type" {
  description = "Cache node type in node mode."
  type        = string
}

variable "node_replicas" {
  description = "Replicas beside the primary in node mode: 0 or 1 (ADR 0022)."
  type        = number
}

variable "max_ecpu_per_second" {
  description = "Serverless ECPU/s ceiling (throttles, never evicts)."
  type        = number
}

variable "subnet_ids" {
  description = "Private subnets, at least two AZs."
  type        = list(string)
}

variable "security_group_id" {
  description = "Redis's security group."
  type        = string
}
