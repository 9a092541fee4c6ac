variable "name" {
  description = "Name prefix."
  type        = string
}

variable "domain_prefix" {
  description = "Hosted UI domain prefix."
  type        = string
}

variable "desktop_callback_port" {
  description = "Loopback port of the desktop client's PKCE callback."
  type        = number
}

variable "access_token_minutes" {
  description = "Access (and ID) token lifetime in minutes."
  type        = number
}
