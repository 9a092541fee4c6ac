variable "name" {
  description = "Name prefix (the queries are saved under <name>/)."
  type        = string
}

variable "access_log_group_name" {
  description = "The API's JSON access log group (modules/api)."
  type        = string
}

variable "lambda_log_group_names" {
  description = "The Lambda log groups that hold audit events: the router's and the budget killer's."
  type        = list(string)
}

variable "node_log_group_name" {
  description = "The node's watcher log group (modules/node): job_answered and self_stop."
  type        = string
}
