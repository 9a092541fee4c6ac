output "rule_names" {
  description = "EventBridge rules by function."
  value       = { for k, r in aws_cloudwatch_event_rule.this : k => r.name }
}
