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

variable "mfa_required" {
  description = "ON: every sign-in asks for a TOTP code (set up at the first sign-in); else OPTIONAL."
  type        = bool
}

variable "owner_group" {
  description = "The group whose members own the deployment (the router's TLFIF_ROUTER_OWNER_GROUP)."
  type        = string
  default     = "owner"
}

variable "access_token_minutes" {
  description = "Access (and ID) token lifetime in minutes."
  type        = number
}

variable "chat_page_url" {
  description = "The chat page's address, the API's URL + \"/\": its app client's callback and sign-out URL."
  type        = string

  validation {
    condition     = startswith(var.chat_page_url, "https://") && endswith(var.chat_page_url, "/")
    error_message = "chat_page_url must be an https URL ending in /: Cognito compares it exactly."
  }
}
