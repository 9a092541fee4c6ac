"""budget_killer Lambda: a real-shaped AWS Budgets alert through moto's SNS, moto's EC2,
real redis-server; BudgetStops read back from the EMF line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import redis

from budget_killer import handler as budget_killer
from tests.doubles.budget_messages import monthly_alert, sns_event
from tests.doubles.lambda_context import LambdaContextDouble
from tests.fixtures.emf import metric_values
from tests.fixtures.lambdas import fresh
from tests.fixtures.moto_server import AMI_ID, REGION
from tests.fixtures.redis_servers import PASSWORD, RedisServer
from tlfif import keys
from tlfif.budget import seconds_until_month_turns


@pytest.fixture
def killer(aws: str, redis_server: RedisServer, lambda_env: pytest.MonkeyPatch) -> Iterator[Any]:
    lambda_env.setenv("TLFIF_REDIS_URL", redis_server.url)
    yield from fresh(budget_killer)


@pytest.fixture
def admin(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(port=redis_server.port, password=PASSWORD, decode_responses=True)
    yield client
    client.close()


def launch(tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    tag_spec = [
        {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    ]
    reservation = ec2.run_instances(
        ImageId=AMI_ID, InstanceType="g4dn.xlarge", MinCount=1, MaxCount=1,
        TagSpecifications=tag_spec,
    )  # fmt: skip
    return str(reservation["Instances"][0]["InstanceId"])


def states() -> dict[str, str]:
    reservations = boto3.client("ec2", region_name=REGION).describe_instances()["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


def through_sns(message: str) -> dict[str, Any]:
    """Publish on a moto SNS topic and take the envelope SNS delivered (to an SQS queue):
    the record Lambda gets is that envelope under "Sns"."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="tl-fif-budget")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(
        TopicArn=topic,
        Subject="AWS Budgets: tl-fif-monthly has exceeded your alert threshold",
        Message=message,
    )
    [delivered] = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)["Messages"]
    envelope = json.loads(delivered["Body"])
    assert envelope["Type"] == "Notification" and envelope["Message"] == message
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": envelope}]}


def test_an_actual_alert_holds_and_stops_every_tagged_instance_once(
    killer: Any, node_instance: str, admin: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("ec2", region_name=REGION).start_instances(InstanceIds=[node_instance])
    second = launch({"env": "tinyllama"})
    other = launch({"env": "something-else"})
    event = through_sns(monthly_alert())

    result = budget_killer.handler(event, LambdaContextDouble())
    assert result["results"][0]["action"] == "hold"
    assert sorted(result["results"][0]["stopped"]) == sorted([node_instance, second])
    now_states = states()
    assert now_states[node_instance] in ("stopping", "stopped")
    assert now_states[second] in ("stopping", "stopped")
    assert now_states[other] == "running"
    assert admin.get(keys.HOLD) == "budget"
    assert abs(admin.ttl(keys.HOLD) - seconds_until_month_turns(datetime.now(UTC))) <= 5
    assert metric_values(capsys.readouterr().out, "BudgetStops") == [2.0]

    # SNS delivers at least once: the same message again changes nothing, even after the
    # owner lifted the hold.
    admin.delete(keys.HOLD)
    again = budget_killer.handler(event, LambdaContextDouble())
    assert again["results"][0]["action"] == "duplicate"
    assert admin.get(keys.HOLD) is None
    assert metric_values(capsys.readouterr().out, "BudgetStops") == []


def test_a_second_alert_with_nothing_running_is_harmless(
    killer: Any, node_instance: str, admin: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    for message_id in ("first-delivery", "another-alert"):
        result = budget_killer.handler(
            sns_event(monthly_alert(), message_id), LambdaContextDouble()
        )
        assert result["results"][0] == {"action": "hold", "budget": "tl-fif-monthly", "stopped": []}
    assert admin.get(keys.HOLD) == "budget"
    assert states()[node_instance] == "stopped"
    assert metric_values(capsys.readouterr().out, "BudgetStops") == [0.0, 0.0]


@pytest.mark.parametrize(
    "event",
    [
        sns_event("Hello from somewhere else"),
        sns_event('{"AlarmName": "gpu", "NewStateValue": "ALARM"}'),
        sns_event(monthly_alert().replace("Budget Name: tl-fif-monthly\n", "")),
        sns_event(monthly_alert(alert_type="FORECASTED")),
        {"Records": [{"EventSource": "aws:sqs", "body": monthly_alert()}]},
        {"Records": "nope"},
        {},
    ],
    ids=["text", "alarm-json", "no-name", "forecast", "not-sns", "bad-records", "empty"],
)
def test_anything_but_an_actual_alert_is_logged_and_stops_nothing(
    killer: Any, node_instance: str, admin: redis.Redis, event: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    boto3.client("ec2", region_name=REGION).start_instances(InstanceIds=[node_instance])
    result = budget_killer.handler(event, LambdaContextDouble())
    assert all(r["action"] == "ignored" for r in result["results"])
    assert states()[node_instance] == "running"
    assert admin.get(keys.HOLD) is None
    out = capsys.readouterr().out
    assert metric_values(out, "BudgetStops") == []
    assert '"level":"WARNING"' in out or '"level":"INFO"' in out


def test_an_alert_of_another_budget_is_ignored_when_one_is_named(
    killer: Any, node_instance: str, admin: redis.Redis, lambda_env: pytest.MonkeyPatch
) -> None:
    lambda_env.setenv("TLFIF_BUDGET_NAME", "tl-fif-monthly")
    boto3.client("ec2", region_name=REGION).start_instances(InstanceIds=[node_instance])
    result = budget_killer.handler(sns_event(monthly_alert("someone-elses")), LambdaContextDouble())
    assert result["results"][0]["action"] == "ignored"
    assert states()[node_instance] == "running"
    assert admin.get(keys.HOLD) is None
