# The reply_events module's promises (ADR 0031): only reply objects run the webhook sender,
# through its prod alias and a permission scoped to the replies bucket and account, and the
# replies topic is encrypted at rest, with a mail subscription only when one is asked for.
# Against a mock provider, as storage.tftest.hcl; pytest runs it
# (tests/infra/test_terraform_test.py).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name                 = "tl-fif-dev"
  email                = ""
  bucket_id            = "tl-fif-dev-replies-123456789012"
  bucket_arn           = "arn:aws:s3:::tl-fif-dev-replies-123456789012"
  sender_function_name = "tl-fif-dev-webhook_sender"
  sender_alias_arn     = "arn:aws:lambda:eu-central-1:123456789012:function:tl-fif-dev-webhook_sender:prod"
}

run "only_reply_objects_run_the_sender" {
  command = plan

  module {
    source = "./modules/reply_events"
  }

  assert {
    condition     = aws_s3_bucket_notification.replies.bucket == var.bucket_id && length(aws_s3_bucket_notification.replies.lambda_function) == 1
    error_message = "The replies bucket has one notification, to one function."
  }

  assert {
    condition = alltrue([for f in aws_s3_bucket_notification.replies.lambda_function : alltrue([
      f.filter_prefix == "replies/",
      f.filter_suffix == ".json",
      f.events == toset(["s3:ObjectCreated:*"]),
      f.lambda_function_arn == var.sender_alias_arn,
    ])])
    error_message = "Only objects created under replies/ ending in .json run the sender, through its prod alias: webhook records, secrets and API keys in the same bucket must not."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.replies.queue) == 0 && length(aws_s3_bucket_notification.replies.topic) == 0
    error_message = "The notification holds only the sender (S3 keeps one configuration per bucket)."
  }
}

run "only_the_replies_bucket_of_this_account_may_invoke_the_sender" {
  command = plan

  module {
    source = "./modules/reply_events"
  }

  assert {
    condition = alltrue([
      aws_lambda_permission.replies_bucket.principal == "s3.amazonaws.com",
      aws_lambda_permission.replies_bucket.action == "lambda:InvokeFunction",
      aws_lambda_permission.replies_bucket.function_name == var.sender_function_name,
      aws_lambda_permission.replies_bucket.qualifier == "prod",
      aws_lambda_permission.replies_bucket.source_arn == var.bucket_arn,
      aws_lambda_permission.replies_bucket.source_account == "123456789012",
    ])
    error_message = "S3 may invoke the sender's prod alias only for the replies bucket, and only in this account (a bucket name can be taken by another account once deleted)."
  }
}

run "the_topic_is_encrypted_and_mails_no_one_unless_asked" {
  command = plan

  module {
    source = "./modules/reply_events"
  }

  assert {
    condition     = aws_sns_topic.replies.name == "tl-fif-dev-replies" && aws_sns_topic.replies.kms_master_key_id == "alias/aws/sns"
    error_message = "The topic is <name>-replies, encrypted at rest with the AWS-managed SNS key (no key to pay for or keep)."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "With no email given, nobody is subscribed."
  }
}

run "an_email_given_is_subscribed" {
  command = plan

  module {
    source = "./modules/reply_events"
  }

  variables {
    email = "owner@example.com"
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 1 && one(aws_sns_topic_subscription.email).protocol == "email" && one(aws_sns_topic_subscription.email).endpoint == "owner@example.com"
    error_message = "The address given is subscribed to the topic by email."
  }
}
