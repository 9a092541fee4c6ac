output "api_id" {
  description = "The HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_url" {
  description = "Base URL clients call."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "api_endpoint" {
  description = "The API's own endpoint, known before its stage and authorizer: the chat page's address less its \"/\" (ADR 0026)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "stage" {
  description = "Stage name (CloudWatch dimension)."
  value       = aws_apigatewayv2_stage.this.name
}

output "routes" {
  description = "Route keys served."
  value       = concat(keys(local.router_routes), [aws_apigatewayv2_route.queue_health.route_key])
}
