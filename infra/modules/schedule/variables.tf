variable "name" {
  description = "Name prefix."
  type        = string
}

variable "cost_publisher_function_name" {
  description = "cost_publisher function."
  type        = string
}

variable "cost_publisher_alias_arn" {
  description = "Its prod alias."
  type        = string
}

variable "scheduled_check_function_name" {
  description = "scheduled_check function."
  type        = string
}

variable "scheduled_check_alias_arn" {
  description = "Its prod alias."
  type        = string
}

variable "scheduled_check_minutes" {
  description = "scheduled_check period in minutes."
  type        = number
}

variable "ping_check_function_name" {
  description = "ping_check function (the uptime probe, ADR 0033)."
  type        = string
}

variable "ping_check_alias_arn" {
  description = "Its prod alias."
  type        = string
}

variable "ping_check_minutes" {
  description = "ping_check period in minutes."
  type        = number
}
