# One role per function, each with only what that function calls (a function that `runs`
# another's code assumes that one's role). EC2 start/stop is limited to instances tagged
# <node_tag_key>=<node_tag_value>; DescribeInstances takes no resource ARN in IAM, so it
# cannot be narrowed further.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.owners

  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = { Name = "${var.name}-${each.key}" }
}

locals {
  instance_arns = "arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"
  # Which EC2 actions (on the tagged node) each function needs.
  ec2_actions = {
    router          = ["ec2:StartInstances", "ec2:StopInstances"]
    scheduled_check = ["ec2:StartInstances"]
    budget_killer   = ["ec2:StopInstances"]
    queue_health    = []
    cost_publisher  = []
    webhook_sender  = []
    ping_check      = [] # the public API over HTTPS only: logs and traces are all its role holds
  }
  describes_ec2 = toset(["router", "scheduled_check", "budget_killer", "cost_publisher"])
}

data "aws_iam_policy_document" "this" {
  for_each = local.owners

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray's put actions take no resource ARN
  }

  dynamic "statement" {
    for_each = each.value.in_vpc ? [1] : []
    content {
      # What Lambda needs to attach its ENIs; these EC2 calls take no resource ARN.
      sid = "VpcNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:AssignIpv6Addresses",
        "ec2:UnassignIpv6Addresses",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = contains(local.describes_ec2, each.key) ? [1] : []
    content {
      sid       = "FindNode"
      actions   = ["ec2:DescribeInstances"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(lookup(local.ec2_actions, each.key, [])) > 0 ? [1] : []
    content {
      sid       = "StartStopTaggedNodeOnly"
      actions   = local.ec2_actions[each.key]
      resources = [local.instance_arns]
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/${var.node_tag_key}"
        values   = [var.node_tag_value]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "router" ? [1] : []
    content {
      sid       = "ReadReplies"
      actions   = ["s3:GetObject"]
      resources = ["${var.replies_bucket_arn}/replies/*"]
    }
  }

  dynamic "statement" {
    # The API keys' store (ADR 0027): one object per key's hash, and its last use beside it.
    for_each = each.key == "router" ? [1] : []
    content {
      sid       = "ApiKeys"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${var.replies_bucket_arn}/api-keys/*"]
    }
  }

  dynamic "statement" {
    # ADR 0031: the webhook record written at submit (webhooks/<sub>/<id>.json, before the
    # job is queued) and the user's webhook secret, shown and rotated by its routes.
    for_each = each.key == "router" ? [1] : []
    content {
      sid       = "Webhooks"
      actions   = ["s3:GetObject", "s3:PutObject"]
      resources = ["${var.replies_bucket_arn}/webhooks/*", "${var.replies_bucket_arn}/webhook-secrets/*"]
    }
  }

  dynamic "statement" {
    # ADR 0034: GET /usage reads the users' months (the nodes write them).
    for_each = each.key == "router" ? [1] : []
    content {
      sid       = "ReadUsage"
      actions   = ["s3:GetObject"]
      resources = ["${var.replies_bucket_arn}/usage/*"]
    }
  }

  dynamic "statement" {
    # Without ListBucket a missing reply reads as 403, not 404 ("not written yet"); the
    # API keys are listed under their prefix (GET /keys); a user's first GET /webhook-secret
    # finds none; the owner's GET /usage lists usage/<month>/.
    for_each = each.key == "router" ? [1] : []
    content {
      sid       = "ListReplies"
      actions   = ["s3:ListBucket"]
      resources = [var.replies_bucket_arn]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["replies/*", "api-keys/*", "webhooks/*", "webhook-secrets/*", "usage/*"]
      }
    }
  }

  dynamic "statement" {
    # ADR 0031: the reply the event names, then its webhook record and the owner's secret.
    # The secrets are SSE-KMS under the AWS-managed aws/s3 key, whose key policy (kept by
    # AWS) lets any principal of the account use it through S3: no kms:Decrypt grant here.
    for_each = each.key == "webhook_sender" ? [1] : []
    content {
      sid     = "ReadRepliesAndWebhooks"
      actions = ["s3:GetObject"]
      resources = [
        "${var.replies_bucket_arn}/replies/*",
        "${var.replies_bucket_arn}/webhooks/*",
        "${var.replies_bucket_arn}/webhook-secrets/*",
      ]
    }
  }

  dynamic "statement" {
    # Most replies name no webhook: without ListBucket their missing record reads as 403.
    for_each = each.key == "webhook_sender" ? [1] : []
    content {
      sid       = "ListWebhooks"
      actions   = ["s3:ListBucket"]
      resources = [var.replies_bucket_arn]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["webhooks/*", "webhook-secrets/*"]
      }
    }
  }

  dynamic "statement" {
    # The topic is under the AWS-managed aws/sns key: usable by the account's principals
    # through SNS, so sns:Publish is all the role needs.
    for_each = each.key == "webhook_sender" ? [1] : []
    content {
      sid       = "PublishReplies"
      actions   = ["sns:Publish"]
      resources = [var.reply_topic_arn]
    }
  }

  dynamic "statement" {
    for_each = each.key == "cost_publisher" ? [1] : []
    content {
      sid       = "CostExplorerSpend"
      actions   = ["ce:GetCostAndUsage"]
      resources = ["*"] # Cost Explorer has no resource-level permissions
    }
  }

  dynamic "statement" {
    for_each = each.key == "cost_publisher" ? [1] : []
    content {
      sid       = "BudgetSpend"
      actions   = ["budgets:ViewBudget"]
      resources = ["arn:${local.partition}:budgets::${local.account}:budget/*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.owners

  name   = "least-privilege"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json
}
