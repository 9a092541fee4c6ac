# EventBridge schedules (scheduled rules on the default bus cost nothing):
#   cost_publisher hourly (the seed's CurrentSpendEUR cadence): it reads the budget's spend,
#     which is free, and asks Cost Explorer (USD 0.01 a request) only every cost_publish_hours
#     (its own setting); the seed's Cost Explorer call every 15 minutes is USD 29/month alone.
#   scheduled_check every M minutes: requeue jobs of a node whose heartbeat lapsed, restart
#     the node for stranded jobs (ARCHITECTURE.md, "Node lifecycle").
#   ping_check every minute: the uptime probe of the public /ping (ADR 0033), the cheap
#     stand-in for a Synthetics canary.

locals {
  schedules = {
    cost_publisher = {
      function = var.cost_publisher_function_name
      alias    = var.cost_publisher_alias_arn
      rate     = "rate(1 hour)"
    }
    scheduled_check = {
      function = var.scheduled_check_function_name
      alias    = var.scheduled_check_alias_arn
      rate     = "rate(${var.scheduled_check_minutes} minute${var.scheduled_check_minutes == 1 ? "" : "s"})"
    }
    ping_check = {
      function = var.ping_check_function_name
      alias    = var.ping_check_alias_arn
      rate     = "rate(${var.ping_check_minutes} minute${var.ping_check_minutes == 1 ? "" : "s"})"
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.schedules

  name                = "${var.name}-${replace(each.key, "_", "-")}"
  description         = "TL-FIF ${each.key}"
  schedule_expression = each.value.rate

  tags = { Name = "${var.name}-${each.key}" }
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.schedules

  rule = aws_cloudwatch_event_rule.this[each.key].name
  arn  = each.value.alias
}

resource "aws_lambda_permission" "this" {
  for_each = local.schedules

  statement_id  = "AllowEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function
  qualifier     = "prod"
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}
