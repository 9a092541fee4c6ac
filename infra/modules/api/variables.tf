variable "name" {
  description = "Name prefix."
  type        = string
}

variable "access_log_group_name" {
  description = "The seed's /apigw/tl-fif."
  type        = string
}

variable "log_retention_days" {
  description = "Access log retention (30 days)."
  type        = number
}

variable "issuer" {
  description = "Cognito issuer URL."
  type        = string
}

variable "client_ids" {
  description = "Accepted app client ids (the authorizer's audience: Cognito puts client_id in access tokens)."
  type        = list(string)
}

variable "router_function_name" {
  description = "Router function name."
  type        = string
}

variable "router_invoke_arn" {
  description = "Router prod alias invoke ARN."
  type        = string
}

variable "queue_health_function_name" {
  description = "queue_health function name."
  type        = string
}

variable "queue_health_invoke_arn" {
  description = "queue_health prod alias invoke ARN."
  type        = string
}

variable "throttle_burst" {
  description = "Stage burst limit."
  type        = number
}

variable "throttle_rate" {
  description = "Stage steady rate (requests/s)."
  type        = number
}

variable "open_route_throttle_rate" {
  description = "Steady rate of each route that takes no token (requests per second)."
  type        = number
}

variable "open_route_throttle_burst" {
  description = "Burst limit of each route that takes no token."
  type        = number
}

variable "access_log" {
  description = "Whether the stage writes its access log (every request, rejected ones too)."
  type        = bool
}
