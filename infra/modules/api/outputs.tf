output "api_id" {
  description = "The HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_url" {
  description = "Base URL clients call."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "stage" {
  description = "Stage name (CloudWatch dimension)."
  value       = aws_apigatewayv2_stage.this.name
}

output "routes" {
  description = "Route keys served."
  value       = concat(keys(local.router_routes), [aws_apigatewayv2_route.queue_health.route_key])
}
