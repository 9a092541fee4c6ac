output "query_names" {
  description = "The saved Logs Insights queries, as the console lists them."
  value       = [for q in aws_cloudwatch_query_definition.this : q.name]
}
