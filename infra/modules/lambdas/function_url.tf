# The optional streaming edge (ADR 0028): a public Lambda function URL in front of a
# function run by the Lambda Web Adapter in response-stream mode, on its prod alias, so a
# roll-back moves it with the rest. API Gateway's HTTP API buffers every response; a
# function URL streams, but authenticates only with AWS_IAM (which no OpenAI client can
# sign) or not at all: here not at all, and the router verifies every token itself. Nothing
# throttles a function URL: the function's reserved concurrency is its only bound.

locals {
  with_url = { for k, f in var.functions : k => f if f.function_url }
}

resource "aws_lambda_function_url" "this" {
  # checkov:skip=CKV_AWS_258:OpenAI clients send a bearer token, not SigV4; the router verifies it (ADR 0028), and reserved concurrency bounds a stranger
  for_each = local.with_url

  function_name      = aws_lambda_alias.prod[each.key].function_name
  qualifier          = "prod"
  authorization_type = "NONE"
  invoke_mode        = "RESPONSE_STREAM"
}

# Who may call the URL: anyone (AuthType NONE still needs the grant in the policy).
resource "aws_lambda_permission" "function_url" {
  # checkov:skip=CKV_AWS_301:public by design, limited to the function URL of the prod alias (function_url_auth_type); the router verifies every token (ADR 0028)
  for_each = local.with_url

  statement_id           = "FunctionUrlPublic"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_alias.prod[each.key].function_name
  qualifier              = "prod"
  principal              = "*"
  function_url_auth_type = "NONE"
}

# Since October 2025 a new function URL also needs lambda:InvokeFunction, which granted to
# "*" without the lambda:InvokedViaFunctionUrl condition would let any AWS account invoke
# the function directly. The pinned provider (5.100.0) has no invoked_via_function_url, so
# the statement goes through Cloud Control, which takes CloudFormation's own schema.
resource "aws_cloudcontrolapi_resource" "function_url_invoke" {
  for_each = local.with_url

  type_name = "AWS::Lambda::Permission"
  desired_state = jsonencode({
    FunctionName          = aws_lambda_alias.prod[each.key].arn
    Action                = "lambda:InvokeFunction"
    Principal             = "*"
    InvokedViaFunctionUrl = true
  })
}
