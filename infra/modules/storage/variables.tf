variable "name" {
  description = "Name prefix; bucket names add the account id to be globally unique."
  type        = string
}

variable "replies_retention_days" {
  description = "Replies are deleted after this many days."
  type        = number
}

variable "noncurrent_version_days" {
  description = "Old object versions expire after this many days."
  type        = number
}
