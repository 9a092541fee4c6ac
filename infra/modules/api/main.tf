# The HTTP API. No CORS configuration here: with one, API Gateway answers preflights itself
# and rewrites headers, while the router owns CORS for http://localhost:* (ARCHITECTURE.md).
# So OPTIONS goes to the router without the authorizer (a browser's preflight carries no
# token). The JWT authorizer checks issuer, signature, expiry and client; the router trusts
# the verified claims it passes on (TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS).

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "TL-FIF: the router's routes (openapi.yaml) and GET /queue-health"

  tags = { Name = var.name }
}

resource "aws_apigatewayv2_authorizer" "cognito" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.issuer
    audience = var.client_ids
  }
}

resource "aws_apigatewayv2_integration" "router" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.router_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000 # HTTP API's ceiling; GET /result waits at most 25 s
}

resource "aws_apigatewayv2_integration" "queue_health" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.queue_health_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 5000
}

locals {
  # route key -> needs the JWT authorizer
  router_routes = {
    "POST /infer"         = true
    "GET /result/{id}"    = true
    "POST /stop"          = true
    "GET /status"         = true
    "GET /cost"           = true
    "POST /budget/resume" = true
    "GET /ping"           = false # uptime checks (the seed's API-005): no token
    "OPTIONS /{proxy+}"   = false # CORS preflights carry no token
    # Anything else reaches the router too, which answers 404/405 in the contract's JSON.
    "$default" = false
  }
}

resource "aws_apigatewayv2_route" "router" {
  # checkov:skip=CKV_AWS_309:GET /ping, OPTIONS preflights and $default (404/405 answers) carry no token by design; the other routes use the JWT authorizer
  for_each = local.router_routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.router.id}"
  authorization_type = each.value ? "JWT" : "NONE"
  authorizer_id      = each.value ? aws_apigatewayv2_authorizer.cognito.id : null
}

resource "aws_apigatewayv2_route" "queue_health" {
  # checkov:skip=CKV_AWS_309:an unauthenticated operator probe (the seed's RED-004) that reveals only ok/slow
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "GET /queue-health"
  target             = "integrations/${aws_apigatewayv2_integration.queue_health.id}"
  authorization_type = "NONE" # an operator's probe (the seed's RED-004); says ok/slow, nothing more
}

resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a CMK costs USD 1/month (ADR 0010)
  name              = var.access_log_group_name
  retention_in_days = var.log_retention_days

  tags = { Name = var.access_log_group_name }
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttle_burst
    throttling_rate_limit    = var.throttle_rate
    detailed_metrics_enabled = true # per-route Latency, so each route gets its own alarm
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    # The contract's access-log fields, one JSON object per line; never a token or a body.
    format = jsonencode({
      requestId = "$context.requestId"
      ip        = "$context.identity.sourceIp"
      route     = "$context.routeKey"
      status    = "$context.status"
      latencyMs = "$context.responseLatency"
      authError = "$context.authorizer.error"
    })
  }

  tags = { Name = var.name }
}

resource "aws_lambda_permission" "router" {
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = var.router_function_name
  qualifier     = "prod"
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

resource "aws_lambda_permission" "queue_health" {
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = var.queue_health_function_name
  qualifier     = "prod"
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
