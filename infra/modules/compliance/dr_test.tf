# Monthly DR test (the seed's TL-FIF-DR-Test SSM document): boot one instance from the
# node's launch template (the current AMI), wait until its watcher marks it ready (the engine
# answered), then terminate it, whatever happened. About 10 GPU-minutes a month (ADR 0016).
# The instance is tagged <node_tag_key>=dr-test, so the router never starts or stops it.

locals {
  dr_tag_value = "dr-test"
  dr_document  = "${var.name}-DR-Test"
}

resource "aws_ssm_document" "dr_test" {
  count = var.enable_dr_test ? 1 : 0

  name            = local.dr_document
  document_type   = "Automation"
  document_format = "YAML"

  content = yamlencode({
    schemaVersion = "0.3"
    description   = "Boot the current node AMI, wait for readiness, terminate."
    assumeRole    = "{{ AutomationAssumeRole }}"
    parameters = {
      AutomationAssumeRole = { type = "String", default = aws_iam_role.dr_test[0].arn }
      ReadyTimeoutSeconds  = { type = "Integer", default = 900 }
    }
    mainSteps = [
      {
        name      = "launch"
        action    = "aws:executeAwsApi"
        onFailure = "Abort"
        inputs = {
          Service        = "ec2"
          Api            = "RunInstances"
          MinCount       = 1
          MaxCount       = 1
          LaunchTemplate = { LaunchTemplateId = var.launch_template_id, Version = "$Latest" }
          TagSpecifications = [{
            ResourceType = "instance"
            Tags = [
              { Key = var.node_tag_key, Value = local.dr_tag_value },
              { Key = "Name", Value = "${var.name}-dr-test" },
            ]
          }]
        }
        outputs = [{ Name = "InstanceId", Selector = "$.Instances[0].InstanceId", Type = "String" }]
      },
      {
        name      = "waitReady"
        action    = "aws:executeScript"
        onFailure = "step:terminate"
        inputs = {
          Runtime = "python3.11"
          Handler = "wait_ready"
          InputPayload = {
            name    = "${var.ready_parameter_prefix}{{ launch.InstanceId }}"
            timeout = "{{ ReadyTimeoutSeconds }}"
          }
          Script = <<-PY
            import time
            import boto3

            def wait_ready(events, context):
                ssm = boto3.client("ssm")
                deadline = time.time() + int(events["timeout"])
                while time.time() < deadline:
                    try:
                        value = ssm.get_parameter(Name=events["name"])["Parameter"]["Value"]
                        return {"ready_ms": value}
                    except ssm.exceptions.ParameterNotFound:
                        time.sleep(15)
                raise TimeoutError("the DR node never marked itself ready")
          PY
        }
      },
      {
        name      = "terminate"
        action    = "aws:executeAwsApi"
        onFailure = "Abort"
        isEnd     = true
        inputs = {
          Service     = "ec2"
          Api         = "TerminateInstances"
          InstanceIds = ["{{ launch.InstanceId }}"]
        }
      },
    ]
  })

  tags = { Name = local.dr_document }
}

data "aws_iam_policy_document" "dr_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ssm.amazonaws.com", "events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "dr_test" {
  count              = var.enable_dr_test ? 1 : 0
  name               = "${var.name}-dr-test"
  assume_role_policy = data.aws_iam_policy_document.dr_assume.json

  tags = { Name = "${var.name}-dr-test" }
}

data "aws_iam_policy_document" "dr_test" {
  count = var.enable_dr_test ? 1 : 0

  statement {
    sid       = "StartOwnAutomation"
    actions   = ["ssm:StartAutomationExecution"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account}:automation-definition/${local.dr_document}:*"]
  }

  # RunInstances authorises every resource it touches; all are named, and only launches from
  # the node's template are allowed.
  statement {
    sid     = "LaunchFromTemplate"
    actions = ["ec2:RunInstances"]
    resources = [
      "arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account}:volume/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account}:network-interface/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account}:subnet/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account}:security-group/*",
      "arn:${local.partition}:ec2:${local.region}::image/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account}:launch-template/${var.launch_template_id}",
    ]
    condition {
      test     = "ArnLike"
      variable = "ec2:LaunchTemplate"
      values   = ["arn:${local.partition}:ec2:${local.region}:${local.account}:launch-template/${var.launch_template_id}"]
    }
  }

  statement {
    sid       = "TagOnLaunch"
    actions   = ["ec2:CreateTags"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account}:*/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances"]
    }
  }

  statement {
    sid       = "TerminateDrNodeOnly"
    actions   = ["ec2:TerminateInstances"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.node_tag_key}"
      values   = [local.dr_tag_value]
    }
  }

  statement {
    sid       = "Describe"
    actions   = ["ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions"]
    resources = ["*"] # Describe calls take no resource ARN
  }

  statement {
    sid       = "ResolveAmiParameter"
    actions   = ["ssm:GetParameters"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.ami_parameter_name}"]
  }

  statement {
    sid       = "ReadReadiness"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.ready_parameter_prefix}*"]
  }

  # The node's role (through its instance profile) and this role itself, which EventBridge
  # hands to the automation as its AutomationAssumeRole.
  statement {
    sid       = "PassRoles"
    actions   = ["iam:PassRole"]
    resources = [var.node_role_arn, aws_iam_role.dr_test[0].arn]
  }
}

resource "aws_iam_role_policy" "dr_test" {
  count  = var.enable_dr_test ? 1 : 0
  name   = "dr-test"
  role   = aws_iam_role.dr_test[0].id
  policy = data.aws_iam_policy_document.dr_test[0].json
}

resource "aws_cloudwatch_event_rule" "dr_test" {
  count = var.enable_dr_test ? 1 : 0

  name                = "${var.name}-dr-test"
  description         = "Monthly DR test of the node AMI"
  schedule_expression = "cron(0 6 1 * ? *)" # 06:00 UTC on the 1st

  tags = { Name = "${var.name}-dr-test" }
}

resource "aws_cloudwatch_event_target" "dr_test" {
  count = var.enable_dr_test ? 1 : 0

  rule     = aws_cloudwatch_event_rule.dr_test[0].name
  arn      = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-definition/${local.dr_document}:$DEFAULT"
  role_arn = aws_iam_role.dr_test[0].arn

  depends_on = [aws_ssm_document.dr_test]
}
