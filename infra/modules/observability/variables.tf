variable "name" {
  description = "Name prefix; the dashboard is named after it."
  type        = string
}

variable "region" {
  description = "Region of the metrics."
  type        = string
}

variable "api_id" {
  description = "The HTTP API."
  type        = string
}

variable "stage" {
  description = "Its stage."
  type        = string
}

variable "instance_ids" {
  description = "The GPU nodes: an idle-miss alarm and dashboard lines for each."
  type        = list(string)
}

variable "latency_alarm_ms" {
  description = "p95 threshold of the short routes."
  type        = number
}

variable "long_poll_seconds" {
  description = "Longest ?wait of GET /result; its alarm sits 2 s above."
  type        = number
}

variable "idle_miss_minutes" {
  description = "GPU idle this long on a running node: the alarm stops it."
  type        = number
}

variable "alerts_topic_arn" {
  description = "Alarm notifications."
  type        = string
}

variable "function_names" {
  description = "Lambda function names by short name."
  type        = map(string)
}

variable "redis_mode" {
  description = "serverless or node."
  type        = string
}

variable "redis_name" {
  description = "Cache name (dimension)."
  type        = string
}

variable "scheduled_check_minutes" {
  description = "The scheduled check's period: the nodes-silent alarm's."
  type        = number
}

variable "ping_check_minutes" {
  description = "The ping probe's period: the ping-dead alarm's."
  type        = number
}
