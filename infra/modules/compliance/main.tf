# The seed's compliance controls that fit the budget (ADRs 0014-0017): a CloudTrail trail of
# management events (the first copy is free), AWS Config on the three checked resource types
# with the seed's three rules, and a monthly DR test that boots the current AMI. Not built:
# daily EBS snapshots (the node is stateless; the AMI is its backup) and MFA-delete (root
# only, not settable from OpenTofu, and S3 refuses lifecycle rules on such buckets).

data "aws_caller_identity" "this" {}
data "aws_region" "this" {}
data "aws_partition" "this" {}

locals {
  account     = data.aws_caller_identity.this.account_id
  region      = data.aws_region.this.name
  partition   = data.aws_partition.this.partition
  need_bucket = var.enable_cloudtrail || var.enable_config_rules
  bucket_name = "${var.name}-audit-${local.account}"
}

resource "aws_s3_bucket" "audit" {
  # checkov:skip=CKV_AWS_18:access logs of the audit bucket would need a bucket of their own; CloudTrail records its management events
  # checkov:skip=CKV_AWS_144:one region is enough for a personal stack; replication doubles storage
  # checkov:skip=CKV_AWS_145:SSE-S3 encrypts at rest for free; a CMK costs USD 1/month
  # checkov:skip=CKV2_AWS_62:nothing consumes object events of audit logs
  count  = local.need_bucket ? 1 : 0
  bucket = local.bucket_name

  tags = { Name = local.bucket_name, purpose = "audit" }
}

resource "aws_s3_bucket_public_access_block" "audit" {
  count  = local.need_bucket ? 1 : 0
  bucket = aws_s3_bucket.audit[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "audit" {
  count  = local.need_bucket ? 1 : 0
  bucket = aws_s3_bucket.audit[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  count  = local.need_bucket ? 1 : 0
  bucket = aws_s3_bucket.audit[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "audit" {
  count  = local.need_bucket ? 1 : 0
  bucket = aws_s3_bucket.audit[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "audit" {
  count  = local.need_bucket ? 1 : 0
  bucket = aws_s3_bucket.audit[0].id

  rule {
    id     = "expire-audit-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.audit]
}

data "aws_iam_policy_document" "audit" {
  count = local.need_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.audit[0].arn, "${aws_s3_bucket.audit[0].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "ServicesCheckAcl"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [aws_s3_bucket.audit[0].arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }

  statement {
    sid     = "ServicesWrite"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.audit[0].arn}/AWSLogs/${local.account}/*",
    ]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_s3_bucket_policy" "audit" {
  count  = local.need_bucket ? 1 : 0
  bucket = aws_s3_bucket.audit[0].id
  policy = data.aws_iam_policy_document.audit[0].json

  depends_on = [aws_s3_bucket_public_access_block.audit]
}

# --- CloudTrail: management events, all regions, log file validation. -------------------
resource "aws_cloudtrail" "this" {
  # checkov:skip=CKV2_AWS_10:sending the trail to CloudWatch Logs bills ingestion at USD 0.63/GB; S3 plus Athena on demand suffices (ADR 0014)
  # checkov:skip=CKV_AWS_252:no one subscribes to per-file notifications
  # checkov:skip=CKV_AWS_35:SSE-S3 on the bucket; a CMK costs USD 1/month (ADR 0014)
  count = var.enable_cloudtrail ? 1 : 0

  name                          = var.name
  s3_bucket_name                = aws_s3_bucket.audit[0].id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true

  tags = { Name = var.name }

  depends_on = [aws_s3_bucket_policy.audit]
}

# --- AWS Config: only the resource types the rules check (each recorded change costs). ---
data "aws_iam_policy_document" "config_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "config" {
  count              = var.enable_config_rules ? 1 : 0
  name               = "${var.name}-config"
  assume_role_policy = data.aws_iam_policy_document.config_assume.json

  tags = { Name = "${var.name}-config" }
}

resource "aws_iam_role_policy_attachment" "config" {
  count      = var.enable_config_rules ? 1 : 0
  role       = aws_iam_role.config[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

resource "aws_config_configuration_recorder" "this" {
  # checkov:skip=CKV2_AWS_48:every recorded change costs USD 0.003; only the types the three rules check are recorded (ADR 0015)
  count    = var.enable_config_rules ? 1 : 0
  name     = var.name
  role_arn = aws_iam_role.config[0].arn

  recording_group {
    all_supported  = false
    resource_types = ["AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::S3::Bucket"]
  }
}

resource "aws_config_delivery_channel" "this" {
  count          = var.enable_config_rules ? 1 : 0
  name           = var.name
  s3_bucket_name = aws_s3_bucket.audit[0].id

  snapshot_delivery_properties {
    delivery_frequency = "TwentyFour_Hours"
  }

  depends_on = [aws_config_configuration_recorder.this, aws_s3_bucket_policy.audit]
}

resource "aws_config_configuration_recorder_status" "this" {
  # checkov:skip=CKV2_AWS_45:the recorder is enabled, deliberately for three resource types only (ADR 0015)
  count      = var.enable_config_rules ? 1 : 0
  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

locals {
  # The seed's rules: encrypted volumes, required tags, no public S3.
  config_rules = {
    encrypted-volumes = {
      identifier = "ENCRYPTED_VOLUMES"
      types      = ["AWS::EC2::Volume"]
      params     = null
    }
    required-tags = {
      identifier = "REQUIRED_TAGS"
      types      = ["AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::S3::Bucket"]
      params     = jsonencode({ tag1Key = "project", tag2Key = "environment" })
    }
    s3-no-public-access = {
      identifier = "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED"
      types      = ["AWS::S3::Bucket"]
      params     = null
    }
  }
}

resource "aws_config_config_rule" "this" {
  for_each = var.enable_config_rules ? local.config_rules : {}

  name             = "${var.name}-${each.key}"
  input_parameters = each.value.params

  source {
    owner             = "AWS"
    source_identifier = each.value.identifier
  }

  scope {
    compliance_resource_types = each.value.types
  }

  tags = { Name = "${var.name}-${each.key}" }

  depends_on = [aws_config_configuration_recorder_status.this]
}
