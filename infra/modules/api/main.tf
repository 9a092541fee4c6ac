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
    "POST /cancel/{id}"   = true # the submitter's cancel (issue 17): a write, with a token
    "POST /stop"          = true
    "POST /wake"          = true # wake-ahead (ADR 0029): a write, with a token
    "GET /status"         = true
    "GET /cost"           = true
    "GET /usage"          = true # ADR 0034: a read, with a token (or under /api-key/)
    "POST /budget/resume" = true
    "GET /ping"           = false # uptime checks (the seed's API-005): no token
    "OPTIONS /{proxy+}"   = false # CORS preflights carry no token
    # The OpenAI-compatible surface (ADR 0024): a token, like every native route.
    "POST /v1/chat/completions" = true
    "POST /v1/completions"      = true
    "GET /v1/models"            = true
    # A job's phases, text and reply as server-sent events (buffered by the HTTP API).
    "GET /result/{id}/events" = true
    # The chat page and its two files (ADR 0026): loading them takes no token (the page
    # calls /v1 with the one the user pastes), so each is an open route with its own throttle.
    "GET /"              = false
    "GET /static/{name}" = false
    # The owner's API keys (ADR 0027), managed with a signed-in token.
    "POST /keys"        = true
    "GET /keys"         = true
    "DELETE /keys/{id}" = true
    # Each user's webhook secret and setting (ADR 0031), with a signed-in token.
    "GET /webhook-secret"         = true
    "POST /webhook-secret/rotate" = true
    "PUT /webhook-settings"       = true
    # The same routes for API keys: the JWT authorizer would refuse a key (no JWT) before
    # the router runs, so this prefix has none and the router verifies the key itself
    # (router/key_path.py); it takes keys only. An open route with its own throttle.
    "ANY /api-key/{proxy+}" = false
    # No $default route: an unknown route gets API Gateway's own 404 and invokes nothing,
    # so a stranger's made-up paths cost requests, not Lambda runs (ADR 0021).
  }
  # The routes a stranger reaches without a token, each with a throttle of its own below
  # the stage's (ADR 0021 sums what they can cost).
  open_routes = concat(
    [for key, needs_token in local.router_routes : key if !needs_token],
    ["GET /queue-health"],
  )
}

resource "aws_apigatewayv2_route" "router" {
  # checkov:skip=CKV_AWS_309:GET /ping, the chat page (GET /, GET /static/{name}) and OPTIONS preflights carry no token by design, and ANY /api-key/{proxy+} carries an API key the router verifies (ADR 0027); each is throttled on its own; the other routes use the JWT authorizer
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
  # checkov:skip=CKV_AWS_76:the gateway's access log is a variable: it is written for every request, rejected ones too, so a flood of them costs ingestion no throttle bounds (ADR 0021); the router logs each request it serves
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttle_burst
    throttling_rate_limit    = var.throttle_rate
    detailed_metrics_enabled = true # per-route Latency, so each route gets its own alarm
  }

  dynamic "route_settings" {
    for_each = toset(local.open_routes)
    content {
      route_key                = route_settings.value
      throttling_burst_limit   = var.open_route_throttle_burst
      throttling_rate_limit    = var.open_route_throttle_rate
      detailed_metrics_enabled = true
    }
  }

  # Written for every request, the 401s, 404s and 429s a stranger makes too: CloudWatch
  # ingests each (~150 bytes) at USD 0.63/GB, bounded only by the account's 10,000 requests
  # a second. Off where the owner's bill must stay bounded (prod); the router's own log has
  # the same fields for every request it serves (ADR 0021).
  dynamic "access_log_settings" {
    for_each = var.access_log ? [1] : []
    content {
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
