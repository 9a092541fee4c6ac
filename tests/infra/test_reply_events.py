"""infra/ for webhooks and the replies topic (ADR 0031), read from the HCL: the sender runs
outside the VPC with only what it calls, the replies bucket has exactly one notification,
and the router may write the webhook records and secrets. The module's own promises are in
infra/tests/reply_events.tftest.hcl; the applied stack in tests/infra/test_round_trip.py."""

from __future__ import annotations

from typing import Any

from tests.infra.hcl import INFRA, load, resources
from tests.infra.test_properties import lambda_functions, module_calls

SENDER = "webhook_sender"


def policy_statements() -> dict[str, tuple[str, dict[str, Any]]]:
    """sid -> (the for_each that picks its functions, its content) of the Lambdas' policy."""
    (document,) = [
        block["aws_iam_policy_document"]["this"]
        for block in load(INFRA / "modules" / "lambdas" / "iam.tf")["data"]
        if "this" in block.get("aws_iam_policy_document", {})
    ]
    found = {}
    for dynamic in document["dynamic"]:
        statement = dynamic["statement"]
        content = statement["content"]
        content = content[0] if isinstance(content, list) else content
        found[content["sid"]] = (statement["for_each"], content)
    return found


def statements_of(function: str) -> dict[str, dict[str, Any]]:
    return {
        sid: content
        for sid, (chosen, content) in policy_statements().items()
        if f'each.key == "{function}"' in chosen
    }


def test_the_sender_runs_outside_the_vpc_and_gets_no_redis() -> None:
    sender = lambda_functions()[SENDER]
    assert sender["handler"] == "webhook_sender.handler.handler"
    assert sender["in_vpc"] is False
    assert (sender["memory_mb"], sender["timeout_s"]) == (256, 60)
    assert sender["env"] == {"TLFIF_SENDER_TOPIC_ARN": "${module.reply_events.topic_arn}"}
    lambdas_main = (INFRA / "modules" / "lambdas" / "main.tf").read_text()
    # The Redis URL and the dual-stack switch go only to the functions in the VPC.
    assert "each.value.in_vpc ? { TLFIF_REDIS_URL = var.redis_url } : {}" in lambdas_main
    assert "checkov:skip=CKV_AWS_117:webhook_sender and ping_check" in lambdas_main
    # ping_check calls the public API from outside as a client would (ADR 0033).
    others = [name for name in lambda_functions() if name not in (SENDER, "ping_check")]
    assert all(lambda_functions()[name]["in_vpc"] is True for name in others)


def test_the_sender_may_read_replies_webhooks_and_secrets_and_publish_to_the_topic_only() -> None:
    granted = statements_of(SENDER)
    assert set(granted) == {"ReadRepliesAndWebhooks", "ListWebhooks", "PublishReplies"}
    read = granted["ReadRepliesAndWebhooks"]
    assert read["actions"] == ["s3:GetObject"]
    assert read["resources"] == [
        f"${{var.replies_bucket_arn}}/{prefix}/*"
        for prefix in ("replies", "webhooks", "webhook-secrets")
    ]
    assert granted["PublishReplies"]["actions"] == ["sns:Publish"]
    assert granted["PublishReplies"]["resources"] == ["${var.reply_topic_arn}"]
    # The AWS-managed aws/s3 and aws/sns keys are usable by the account's principals through
    # their service: no KMS grant anywhere.
    actions = [a for _, content in policy_statements().values() for a in content["actions"]]
    assert not [action for action in actions if action.startswith("kms:")]
    assert module_calls()["lambdas"]["reply_topic_arn"] == "${module.reply_events.topic_arn}"


def test_the_router_may_write_webhook_records_and_secrets() -> None:
    granted = statements_of("router")
    webhooks = granted["Webhooks"]
    assert webhooks["actions"] == ["s3:GetObject", "s3:PutObject"]
    assert webhooks["resources"] == [
        "${var.replies_bucket_arn}/webhooks/*",
        "${var.replies_bucket_arn}/webhook-secrets/*",
    ]
    (listed,) = granted["ListReplies"]["condition"]
    assert {"webhooks/*", "webhook-secrets/*"} <= set(listed["values"])


def test_the_replies_bucket_has_one_notification_and_it_runs_the_senders_prod_alias() -> None:
    (notification,) = resources("aws_s3_bucket_notification")  # S3 keeps one per bucket
    (function,) = notification.body["lambda_function"]
    assert (function["filter_prefix"], function["filter_suffix"]) == ("replies/", ".json")
    call = module_calls()["reply_events"]
    assert call["bucket_id"] == "${module.storage.replies_bucket}"
    assert call["sender_alias_arn"] == '${module.lambdas.alias_arns["webhook_sender"]}'
    assert call["email"] == "${var.reply_topic_email}"
    (permission,) = [r for r in resources("aws_lambda_permission") if r.name == "replies_bucket"]
    assert permission.body["principal"] == "s3.amazonaws.com"
    assert permission.body["source_account"] == "${data.aws_caller_identity.this.account_id}"


def test_webhook_records_expire_and_old_secrets_do_not_live_on() -> None:
    (replies,) = [
        r for r in resources("aws_s3_bucket_lifecycle_configuration") if r.name == "replies"
    ]
    rules = {rule["id"]: rule for rule in replies.body["rule"]}
    storage = load(INFRA / "modules" / "storage" / "main.tf")["locals"][0]
    assert (storage["webhook_record_days"], storage["webhook_noncurrent_days"]) == (2, 1)
    assert rules["webhooks-expire"]["filter"][0]["prefix"] == "webhooks/"
    assert rules["webhook-secrets-old-versions"]["filter"][0]["prefix"] == "webhook-secrets/"
    assert "expiration" not in rules["webhook-secrets-old-versions"]  # the secret itself stays
