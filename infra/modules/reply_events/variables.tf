variable "name" {
  description = "Name prefix; the topic is <name>-replies."
  type        = string
}

variable "email" {
  description = "An address subscribed to the replies topic (confirmed by mail); empty: none."
  type        = string
}

variable "bucket_id" {
  description = "The replies bucket, whose reply objects run the sender."
  type        = string
}

variable "bucket_arn" {
  description = "Its ARN (the permission's source)."
  type        = string
}

variable "sender_function_name" {
  description = "The webhook sender function."
  type        = string
}

variable "sender_alias_arn" {
  description = "Its prod alias (what S3 invokes)."
  type        = string
}
