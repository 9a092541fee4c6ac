# The GPU nodes: node_count instances (ADR 0032; 1 unless more are asked for), launched from
# one template whose AMI is read from SSM at launch (so a new bake or a roll-back is a
# parameter change plus a replace), normally stopped. IMDSv2 only, encrypted gp3, no key
# pair, no inbound rule; a public IPv4 only while running (ADR 0010). The router finds them
# by their env tag; the role they share lets each stop itself only.

data "aws_region" "this" {}
data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}
# default_tags reach resources OpenTofu creates, not what EC2 creates from a template at
# launch (the DR instance, volumes, interfaces): those get them through tag_specifications.
data "aws_default_tags" "this" {}

locals {
  env_path   = "/${var.name}/node/env"
  ready_path = "/${var.name}/ready"
  account    = data.aws_caller_identity.this.account_id
  region     = data.aws_region.this.name
  partition  = data.aws_partition.this.partition
  log_groups = {
    watcher = "/${var.name}/node/watcher"
    vllm    = "/${var.name}/node/vllm"
  }
}

# The watcher's settings, read at boot by tlfif-node-env.service (packer/files/).
resource "aws_ssm_parameter" "env" {
  # checkov:skip=CKV_AWS_337:SecureString under the AWS-managed aws/ssm key; a CMK adds USD 1/month for no reader fewer
  for_each = var.node_env

  name  = "${local.env_path}/${each.key}"
  type  = "SecureString"
  value = each.value

  tags = { Name = each.key }
}

resource "aws_ssm_parameter" "redis_url" {
  # checkov:skip=CKV_AWS_337:SecureString under the AWS-managed aws/ssm key; a CMK adds USD 1/month for no reader fewer
  name  = "${local.env_path}/TLFIF_REDIS_URL"
  type  = "SecureString"
  value = var.redis_url

  tags = { Name = "TLFIF_REDIS_URL" }
}

resource "aws_cloudwatch_log_group" "node" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a CMK costs USD 1/month (ADR 0010)
  for_each = local.log_groups

  name              = each.value
  retention_in_days = var.log_retention_days

  tags = { Name = each.value }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.name}-node"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = { Name = "${var.name}-node" }
}

data "aws_iam_policy_document" "node" {
  # checkov:skip=CKV_AWS_111:the SSM agent's channel and message calls (ssmmessages, ec2messages, UpdateInstanceInformation) take no resource ARN; every other write names its own resource
  # checkov:skip=CKV_AWS_356:the same calls: "*" is the only resource they accept (ssmmessages and ec2messages define no resource type)
  # SSM Session Manager (the only way in) and the agent's own registration: what the agent
  # needs, not AmazonSSMManagedInstanceCore, whose ssm:GetParameter* on * would let the
  # node read every parameter of the account past ReadOwnSettings below.
  statement {
    sid = "SessionManager"
    actions = [
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
    ]
    resources = ["*"] # these calls take no resource ARN
  }

  statement {
    sid     = "ReadOwnSettings"
    actions = ["ssm:GetParametersByPath", "ssm:GetParameter"]
    # The path itself (GetParametersByPath) and what is under it; `env*` would also match a
    # sibling such as .../node/envoy.
    resources = [
      "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${local.env_path}",
      "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${local.env_path}/*",
    ]
  }

  statement {
    sid       = "MarkReady"
    actions   = ["ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${local.ready_path}/*"]
  }

  statement {
    sid       = "WriteReplies"
    actions   = ["s3:PutObject"]
    resources = ["${var.replies_bucket_arn}/replies/*"]
  }

  statement {
    # ADR 0034: each user's month of usage, read and rewritten after each reply.
    sid       = "KeepUsage"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.replies_bucket_arn}/usage/*"]
  }

  statement {
    # Without ListBucket a user's first record of the month reads as 403, not 404.
    sid       = "ListUsage"
    actions   = ["s3:ListBucket"]
    resources = [var.replies_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["usage/*"]
    }
  }

  statement {
    sid       = "ReadAdapters"
    actions   = ["s3:GetObject"]
    resources = ["${var.models_bucket_arn}/*"]
  }

  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource type; the namespace condition narrows it
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["CWAgent", "TLFIF"]
    }
  }

  statement {
    sid = "Logs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = flatten([for g in aws_cloudwatch_log_group.node : [g.arn, "${g.arn}:*"]])
  }

  statement {
    sid       = "DescribeForAgent"
    actions   = ["ec2:DescribeTags", "ec2:DescribeVolumes"]
    resources = ["*"] # Describe* calls take no resource ARN
  }
}

resource "aws_iam_role_policy" "node" {
  name   = "node"
  role   = aws_iam_role.node.id
  policy = data.aws_iam_policy_document.node.json
}

# Self-stop: StopInstances on the calling instance and nothing else (the seed's "self-only"),
# with one role for every node. ec2:SourceInstanceARN is the key EC2 puts in the request
# context of calls made with an instance's role credentials; ${ec2:InstanceID} is the
# instance the call targets. They match only when a node stops itself (AWS's own managed
# AWSEC2VssSnapshotPolicy scopes an instance to itself so); a call without the key
# (credentials copied off the node) matches nothing.
data "aws_iam_policy_document" "self_stop" {
  statement {
    sid       = "StopSelf"
    actions   = ["ec2:StopInstances"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:SourceInstanceARN"
      values   = ["arn:${local.partition}:ec2:${local.region}:${local.account}:instance/$${ec2:InstanceID}"]
    }
  }
}

resource "aws_iam_role_policy" "self_stop" {
  name   = "self-stop"
  role   = aws_iam_role.node.id
  policy = data.aws_iam_policy_document.self_stop.json
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.name}-node"
  role = aws_iam_role.node.name

  tags = { Name = "${var.name}-node" }
}

resource "aws_launch_template" "node" {
  # checkov:skip=CKV_AWS_88:public IPv4 only while running and no inbound rule at all; cheaper than NAT or endpoints (ADR 0010)
  name          = "${var.name}-node"
  description   = "TL-FIF GPU node; AMI from ${var.ami_parameter_name}"
  image_id      = "resolve:ssm:${var.ami_parameter_name}"
  instance_type = var.instance_type
  # No key_name: no key pair exists; operators use SSM Session Manager.
  ebs_optimized = true
  # Powering off (the poweroff self-stop, or `shutdown -h` in a session) stops, never
  # terminates: the node must survive to be started again.
  instance_initiated_shutdown_behavior = "stop"
  update_default_version               = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.node.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 1
    http_protocol_ipv6          = "disabled"
    instance_metadata_tags      = "enabled" # the boot script reads tlfif-env-path
  }

  # 1-minute EC2 metrics; billed per metric-hour only while the node runs (cents a month).
  monitoring {
    enabled = true
  }

  network_interfaces {
    device_index                = 0
    subnet_id                   = var.subnet_id
    security_groups             = [var.security_group_id]
    associate_public_ip_address = true # released on stop: billed only while running (ADR 0010)
    ipv6_address_count          = 1
    delete_on_termination       = true
  }

  block_device_mappings {
    device_name = "/dev/sda1"
    ebs {
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      iops                  = 3000
      throughput            = 125
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags = merge(data.aws_default_tags.this.tags, {
      Name               = "${var.name}-node"
      (var.node_tag_key) = var.node_tag_value
      "tlfif-env-path"   = local.env_path
    })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(data.aws_default_tags.this.tags, { Name = "${var.name}-node-root" })
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = merge(data.aws_default_tags.this.tags, { Name = "${var.name}-node" })
  }

  tags = { Name = "${var.name}-node" }
}

resource "aws_instance" "node" {
  # checkov:skip=CKV_AWS_8:the launch template encrypts the root volume; a root_block_device here breaks resolve:ssm: AMIs (terraform-provider-aws #43488)
  # Each its own root volume (the template's mapping); all in the one subnet the template's
  # interface names, where node_subnet_index moves them when that AZ lacks g4dn capacity.
  count = var.node_count

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  # The instance is started by the router and stops itself; aws_instance never manages
  # that state, so only the template is ignored: a newer template version must not replace
  # the node (an AMI roll-forward is an explicit `-replace`, README "Deploy").
  lifecycle {
    ignore_changes = [launch_template]
  }

  # The same as the template says; repeated so nothing reading the instance alone can doubt it.
  iam_instance_profile = aws_iam_instance_profile.node.name
  ebs_optimized        = true
  monitoring           = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  # No root_block_device: the template's block_device_mappings sets the root volume, and
  # the block makes the provider call DescribeImages on the template's `resolve:ssm:` AMI
  # string, which fails with InvalidAMIID.Malformed (terraform-provider-aws #43488).

  tags = {
    Name               = "${var.name}-node-${count.index}"
    (var.node_tag_key) = var.node_tag_value
    "tlfif-env-path"   = local.env_path
  }
}

# Created running; stopped right after, so a fresh deploy costs nothing until a prompt.
resource "aws_ec2_instance_state" "node" {
  count = var.node_count

  instance_id = aws_instance.node[count.index].id
  state       = "stopped"

  lifecycle {
    ignore_changes = [state]
  }
}

# A stack from before node_count keeps its one node as node[0]: no replacement, no new GPU.
moved {
  from = aws_instance.node
  to   = aws_instance.node[0]
}

moved {
  from = aws_ec2_instance_state.node
  to   = aws_ec2_instance_state.node[0]
}
