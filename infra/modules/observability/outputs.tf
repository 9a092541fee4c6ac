output "dashboard_url" {
  description = "The CloudWatch dashboard."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards:name=${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "alarm_names" {
  description = "Every alarm (each beyond the account's first ten costs USD 0.10 a month)."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.latency : a.alarm_name],
    [aws_cloudwatch_metric_alarm.long_poll.alarm_name, aws_cloudwatch_metric_alarm.lambda_errors.alarm_name],
    aws_cloudwatch_metric_alarm.idle_miss[*].alarm_name,
    aws_cloudwatch_metric_alarm.redis_memory[*].alarm_name,
    [for a in [
      aws_cloudwatch_metric_alarm.queue_health,
      aws_cloudwatch_metric_alarm.spend_silent,
      aws_cloudwatch_metric_alarm.api_5xx,
      aws_cloudwatch_metric_alarm.router_throttles,
      aws_cloudwatch_metric_alarm.nodes_silent,
      aws_cloudwatch_metric_alarm.ping_dead,
    ] : a.alarm_name],
  )
}
