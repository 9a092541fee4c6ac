# The audit module's promises (ADR 0034): three saved Logs Insights queries, each over the
# groups that hold its lines. moto has no saved queries (tests/infra/moto_overrides), so
# this plan is where they are checked. Run as storage.tftest.hcl says.

mock_provider "aws" {}

variables {
  name                   = "tl-fif-dev"
  access_log_group_name  = "/apigw/tl-fif-dev"
  lambda_log_group_names = ["/aws/lambda/tl-fif-dev-router", "/aws/lambda/tl-fif-dev-budget_killer"]
  node_log_group_name    = "/tl-fif-dev/node/watcher"
}

run "the_three_queries_read_the_right_groups" {
  command = plan

  module {
    source = "./modules/audit"
  }

  assert {
    condition     = jsonencode(sort(keys(aws_cloudwatch_query_definition.this))) == jsonencode(["api_latency", "audit_trail", "per_user_usage"])
    error_message = "The seed's api_latency and per-user usage, and the audit trail: ${jsonencode(keys(aws_cloudwatch_query_definition.this))}"
  }

  assert {
    condition     = jsonencode(aws_cloudwatch_query_definition.this["api_latency"].log_group_names) == jsonencode(["/apigw/tl-fif-dev"])
    error_message = "api_latency reads the API's access log."
  }

  assert {
    condition     = jsonencode(aws_cloudwatch_query_definition.this["per_user_usage"].log_group_names) == jsonencode(["/tl-fif-dev/node/watcher"]) && strcontains(aws_cloudwatch_query_definition.this["per_user_usage"].query_string, "job_answered")
    error_message = "per_user_usage sums the watcher's job_answered lines."
  }

  assert {
    condition     = length(aws_cloudwatch_query_definition.this["audit_trail"].log_group_names) == 3 && strcontains(aws_cloudwatch_query_definition.this["audit_trail"].query_string, "event = \"audit\"")
    error_message = "audit_trail reads the router's, the budget killer's and the watcher's audit events."
  }
}
