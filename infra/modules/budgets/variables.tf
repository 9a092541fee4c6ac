variable "name" {
  description = "Name prefix."
  type        = string
}

variable "owner_email" {
  description = "Receives the warning, the stop notice and alarm mails."
  type        = string
}

variable "budget_eur" {
  description = "Hard stop in EUR."
  type        = number
}

variable "budget_warning_eur" {
  description = "Warning in EUR."
  type        = number
}

variable "usd_per_eur" {
  description = "Conversion rate for the USD budget."
  type        = number
}

variable "budget_killer_function_name" {
  description = "budget_killer function."
  type        = string
}

variable "budget_killer_alias_arn" {
  description = "Its prod alias."
  type        = string
}
