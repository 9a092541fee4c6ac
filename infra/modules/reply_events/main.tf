# Every reply's event (ADR 0031): the replies topic, which gets each reply's id, submitter
# and status (subscribe an email or a phone to it), and the replies bucket's notification
# that runs the webhook sender for each reply the node writes (replies/<sub>/<id>.json).
# The sender, not the GPU node, publishes and posts: the node has no general egress and may
# stop right after writing.

data "aws_caller_identity" "this" {}

# Published to by the webhook sender only, through its role: the AWS-managed SNS key can be
# used by any principal of the account that SNS authorises (no key policy to keep, no
# monthly fee); AWS services that publish themselves (Budgets, alarms) could not use it,
# which is why the budgets module's topics are not encrypted.
resource "aws_sns_topic" "replies" {
  name              = "${var.name}-replies"
  kms_master_key_id = "alias/aws/sns"

  tags = { Name = "${var.name}-replies" }
}

# Optional; SNS mails a confirmation link first. A phone (SMS) is subscribed by hand
# (README "The replies topic"): SMS is priced per message and country.
resource "aws_sns_topic_subscription" "email" {
  count = var.email == "" ? 0 : 1

  topic_arn = aws_sns_topic.replies.arn
  protocol  = "email"
  endpoint  = var.email
}

resource "aws_lambda_permission" "replies_bucket" {
  statement_id   = "AllowRepliesBucketEvents"
  action         = "lambda:InvokeFunction"
  function_name  = var.sender_function_name
  qualifier      = "prod"
  principal      = "s3.amazonaws.com"
  source_arn     = var.bucket_arn
  source_account = data.aws_caller_identity.this.account_id
}

# The bucket's only notification configuration (S3 keeps one per bucket: a second resource
# on it would overwrite this one). Only reply objects: the webhook records, secrets and API
# keys in the same bucket must not run the sender.
resource "aws_s3_bucket_notification" "replies" {
  bucket = var.bucket_id

  lambda_function {
    id                  = "webhook-sender"
    lambda_function_arn = var.sender_alias_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "replies/"
    filter_suffix       = ".json"
  }

  # S3 checks that it may invoke the function when the configuration is put.
  depends_on = [aws_lambda_permission.replies_bucket]
}
