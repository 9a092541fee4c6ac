# The storage module's promises about what it configures: both buckets private, encrypted
# at rest, versioned, TLS only. Against a mock provider (nothing is created, no credentials);
# the inputs are what the root passes for envs/dev.tfvars. Run from infra/: `terraform test`
# (or `tofu test`) after `init -backend=false`; pytest does both
# (tests/infra/test_terraform_test.py).
#
# The promises are configured arguments, known at plan, except which bucket each control is
# attached to: that is by id and ARN, which a provider computes, so the last run applies.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  # A mock's generated json is a random word; the bucket policy must get a policy document.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  name                    = "tl-fif-dev"
  replies_retention_days  = 365
  noncurrent_version_days = 7
}

run "buckets_are_named_per_account" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = { for k, b in aws_s3_bucket.this : k => b.bucket } == { models = "tl-fif-dev-models-123456789012", replies = "tl-fif-dev-replies-123456789012" }
    error_message = "There are exactly two buckets, replies and models, named <name>-<purpose>-<account id> so the name is globally unique: ${jsonencode({ for k, b in aws_s3_bucket.this : k => b.bucket })}"
  }
}

run "every_bucket_blocks_every_public_path" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = keys(aws_s3_bucket_public_access_block.this) == keys(aws_s3_bucket.this)
    error_message = "Every bucket has a public access block: ${jsonencode(keys(aws_s3_bucket_public_access_block.this))}"
  }

  assert {
    condition = alltrue([for b in values(aws_s3_bucket_public_access_block.this) : alltrue([
      b.block_public_acls, b.block_public_policy, b.ignore_public_acls, b.restrict_public_buckets,
    ])])
    error_message = "Each public access block sets all four flags (block/ignore public ACLs, block public policy, restrict public buckets) to true."
  }

  assert {
    condition     = alltrue([for o in values(aws_s3_bucket_ownership_controls.this) : one(o.rule).object_ownership == "BucketOwnerEnforced"]) && keys(aws_s3_bucket_ownership_controls.this) == keys(aws_s3_bucket.this)
    error_message = "Every bucket enforces bucket-owner ownership, which switches ACLs off."
  }
}

run "every_bucket_encrypts_at_rest" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = keys(aws_s3_bucket_server_side_encryption_configuration.this) == keys(aws_s3_bucket.this)
    error_message = "Every bucket has a server-side encryption configuration: ${jsonencode(keys(aws_s3_bucket_server_side_encryption_configuration.this))}"
  }

  assert {
    condition = alltrue([for c in values(aws_s3_bucket_server_side_encryption_configuration.this) : alltrue([
      for r in c.rule : one(r.apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    ])])
    error_message = "Every bucket encrypts by default with SSE-S3 (AES256): free, unlike a KMS key."
  }
}

run "every_bucket_keeps_versions_and_expires_old_ones" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = keys(aws_s3_bucket_versioning.this) == keys(aws_s3_bucket.this) && alltrue([for v in values(aws_s3_bucket_versioning.this) : one(v.versioning_configuration).status == "Enabled"])
    error_message = "Every bucket has versioning enabled, so a mistaken delete can be undone."
  }

  assert {
    condition = alltrue([for lc in [aws_s3_bucket_lifecycle_configuration.replies, aws_s3_bucket_lifecycle_configuration.models] : alltrue([
      for r in lc.rule : one(r.noncurrent_version_expiration).noncurrent_days == (startswith(r.id, "webhook") || startswith(r.id, "usage") ? 1 : var.noncurrent_version_days) && length(r.transition) == 0
    ])])
    error_message = "Every lifecycle rule expires old versions, after noncurrent_version_days (the webhook and usage rules after one day), and none moves objects to another storage class (Glacier bills 1 KB replies as 128 KB)."
  }

  assert {
    condition = jsonencode({ for r in aws_s3_bucket_lifecycle_configuration.replies.rule : r.id => [one(r.filter).prefix, try(one(r.expiration).days, null)] if startswith(r.id, "webhook") }) == jsonencode({
      "webhook-secrets-old-versions" = ["webhook-secrets/", null]
      "webhooks-expire"              = ["webhooks/", 2]
    })
    error_message = "Webhook records (webhooks/) expire after two days; a rotated webhook secret's old version (webhook-secrets/) goes after one day, not the bucket's noncurrent_version_days (ADR 0031)."
  }

  assert {
    condition     = jsonencode([for r in aws_s3_bucket_lifecycle_configuration.replies.rule : [one(r.filter).prefix, one(r.expiration).days] if r.id == "usage-expire"]) == jsonencode([["usage/", 400]])
    error_message = "Each user's month of usage (usage/) is kept 400 days, a year back from any month (ADR 0034)."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.replies.rule : one(r.expiration).days if r.id == "replies-expire"]) == var.replies_retention_days
    error_message = "Replies are deleted after replies_retention_days."
  }
}

run "every_bucket_refuses_plain_http" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = keys(aws_s3_bucket_policy.this) == keys(aws_s3_bucket.this)
    error_message = "Every bucket has a bucket policy: ${jsonencode(keys(aws_s3_bucket_policy.this))}"
  }

  assert {
    condition = alltrue([for d in values(data.aws_iam_policy_document.tls_only) :
      jsonencode([for s in d.statement : [s.effect, s.actions, [for p in s.principals : [p.type, p.identifiers]]]])
      == jsonencode([["Deny", ["s3:*"], [["*", ["*"]]]]])
    ])
    error_message = "Each bucket policy is one statement that denies s3:* to every principal."
  }

  assert {
    condition = alltrue([for d in values(data.aws_iam_policy_document.tls_only) :
      jsonencode([for s in d.statement : [for c in s.condition : [c.test, c.variable, c.values]]])
      == jsonencode([[["Bool", "aws:SecureTransport", ["false"]]]])
    ])
    error_message = "The deny applies exactly when the request is not over TLS (Bool aws:SecureTransport = false)."
  }
}

# Last, and an apply (to the mock: nothing is created): bucket ids and ARNs exist only once a
# provider has made them up, and at plan Terraform leaves them unknown.
run "each_bucket_gets_its_own_controls" {
  module {
    source = "./modules/storage"
  }

  assert {
    condition = alltrue([for k, b in aws_s3_bucket.this :
      toset(flatten([for s in data.aws_iam_policy_document.tls_only[k].statement : tolist(s.resources)])) == toset([b.arn, "${b.arn}/*"])
    ])
    error_message = "Each bucket's TLS-only statement names that bucket and every object in it (<arn> and <arn>/*), no more, no less."
  }

  assert {
    condition = alltrue([for k, b in aws_s3_bucket.this : alltrue([
      aws_s3_bucket_public_access_block.this[k].bucket == b.id,
      aws_s3_bucket_ownership_controls.this[k].bucket == b.id,
      aws_s3_bucket_server_side_encryption_configuration.this[k].bucket == b.id,
      aws_s3_bucket_versioning.this[k].bucket == b.id,
      aws_s3_bucket_policy.this[k].bucket == b.id,
    ])])
    error_message = "Each bucket's public access block, ownership controls, encryption, versioning and policy are attached to that bucket, not to its sibling."
  }
}
