# The money guard: one monthly cost budget (free: AWS Budgets charges only for
# action-enabled budgets beyond two). At the warning level (EUR 15 of 20: 75 %) a mail goes
# to the owner; at 100 % a message goes to an SNS topic whose subscriber is budget_killer,
# which sets the budget hold and stops the GPU by tag (ARCHITECTURE.md, "Holds").
# Budgets bills in USD, so the EUR limits are converted with var.usd_per_eur.

data "aws_caller_identity" "this" {}

locals {
  limit_usd   = format("%.2f", var.budget_eur * var.usd_per_eur)
  warning_pct = floor(100 * var.budget_warning_eur / var.budget_eur)
}

resource "aws_sns_topic" "budget_stop" {
  # checkov:skip=CKV_AWS_26:AWS Budgets cannot publish to a topic under the AWS-managed SNS key; a CMK costs USD 1/month; messages hold amounts only
  name = "${var.name}-budget-stop"

  tags = { Name = "${var.name}-budget-stop" }
}

# Alarm mails (observability) go here too.
resource "aws_sns_topic" "alerts" {
  # checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish under the AWS-managed SNS key; a CMK costs USD 1/month; messages hold alarm names only
  name = "${var.name}-alerts"

  tags = { Name = "${var.name}-alerts" }
}

data "aws_iam_policy_document" "budget_stop" {
  statement {
    sid       = "BudgetsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.budget_stop.arn]
    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.this.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "budget_stop" {
  arn    = aws_sns_topic.budget_stop.arn
  policy = data.aws_iam_policy_document.budget_stop.json
}

data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.this.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

resource "aws_sns_topic_subscription" "owner_alerts" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.owner_email
}

resource "aws_sns_topic_subscription" "budget_killer" {
  topic_arn = aws_sns_topic.budget_stop.arn
  protocol  = "lambda"
  endpoint  = var.budget_killer_alias_arn
}

resource "aws_lambda_permission" "budget_killer" {
  statement_id  = "AllowBudgetStopTopic"
  action        = "lambda:InvokeFunction"
  function_name = var.budget_killer_function_name
  qualifier     = "prod"
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.budget_stop.arn
}

resource "aws_budgets_budget" "monthly" {
  name         = "${var.name}-monthly" # cost_publisher and budget_killer name it too
  budget_type  = "COST"
  limit_amount = local.limit_usd
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = local.warning_pct
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = [var.owner_email]
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = [var.owner_email]
    subscriber_sns_topic_arns  = [aws_sns_topic.budget_stop.arn]
  }

  depends_on = [aws_sns_topic_policy.budget_stop]
}
