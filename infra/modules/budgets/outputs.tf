output "alerts_topic_arn" {
  description = "Topic for alarm mails."
  value       = aws_sns_topic.alerts.arn
}

output "budget_stop_topic_arn" {
  description = "Topic the 100 % notification publishes to."
  value       = aws_sns_topic.budget_stop.arn
}

output "limit_usd" {
  description = "The budget's limit in USD."
  value       = local.limit_usd
}
