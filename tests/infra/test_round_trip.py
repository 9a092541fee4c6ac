"""infra/ applied for real: init -> plan -> apply -> a second plan -> destroy, for dev and
for prod side by side, each on a fresh moto server (tests/infra/terraform_stack.py); on
dev, between apply and the second plan, the app runs on what apply created
(tests/infra/app_on_stack.py). Dev also turns on the streaming edge (ADR 0028), which is
off in both envs' tfvars, so its function URL is applied too, and makes DEV_NODES nodes
(ADR 0032; both envs' tfvars make one). Both turn on the deploy identity (a repository
named), so its OIDC provider and role are applied too, beside ADR 0033's alarms.

The second plan may show only KNOWN_DRIFT: changes that come from what moto stores, each
named with its cause. Destroy must leave nothing in the state. The two stacks run in
threads: most of an apply is the provider waiting (56 s of it on S3 lifecycle rules).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.fixtures.engine import EngineProcess
from tests.fixtures.redis_servers import RedisServer
from tests.infra.app_on_stack import check_settings, lambda_env, node_env, run_one_prompt
from tests.infra.terraform_stack import (
    LAMBDAS,
    Stack,
    add_test_vars,
    changes,
    copy_infra,
    enable_stream_edge,
    owners_first_steps,
    planned_resources,
    require_tool,
    start_stack_moto,
)
from tlfif.settings import RouterSettings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

T = TypeVar("T")
NO_LOGGING_CONFIG = "moto does not store a function's logging_config: the provider sets it again"
NEW_VERSION = "follows: the function's update publishes a new version"
NO_RULE_DESCRIPTION = "moto does not store a security group rule's description"
# dev's streaming edge (ADR 0028): the router's zip run by the Lambda Web Adapter.
STREAM_FUNCTION = "router_stream"
# dev's node_count_max (ADR 0032): more than one node, as the fleet code must find them.
DEV_NODES = 2
# The deploy identity's opt-in (infra/modules/deploy_identity).
REPOSITORY = "example/tl-fif"
# ADR 0033's alarms, by suffix.
BROKEN_ALARMS = (
    "queue-health", "spend-silent", "api-5xx", "router-throttles", "nodes-silent", "ping-dead",
)  # fmt: skip
# address -> why the second plan shows it; the same for dev and prod.
KNOWN_DRIFT: dict[str, str] = {
    **{
        f'module.lambdas.aws_lambda_function.this["{n}"]': NO_LOGGING_CONFIG
        for n in (*LAMBDAS, STREAM_FUNCTION)
    },
    **{
        f'module.lambdas.aws_lambda_alias.prod["{n}"]': NEW_VERSION
        for n in (*LAMBDAS, STREAM_FUNCTION)
    },
    "module.lambdas.aws_ssm_parameter.prod_versions": NEW_VERSION,
    **{
        f"module.network.aws_vpc_security_group_{rule}": NO_RULE_DESCRIPTION
        for rule in (
            "egress_rule.lambda_endpoint",
            "egress_rule.lambda_s3",
            'egress_rule.to_redis["lambda"]',
            'egress_rule.to_redis["node"]',
            "ingress_rule.endpoint",
            'ingress_rule.redis["lambda"]',
            'ingress_rule.redis["node"]',
        )
    },
    **{
        f"module.node.aws_instance.node[{i}]": (
            "moto does not give an instance its launch template's user data (user_data empty)"
        )
        for i in range(DEV_NODES)
    },
    "module.node.aws_launch_template.node": (
        "moto reports the template's own tags as a `launch-template` tag specification"
    ),
}


def stack_tags(stack: Stack) -> dict[str, str]:
    return {"project": "tl-fif", "environment": stack.env, "managed-by": "opentofu"}


@pytest.fixture
def stack_for(tmp_path: Path) -> Iterator[Callable[[str], Stack]]:
    """A Stack of an environment on a moto of its own, the owner's first steps done."""
    started = []

    def build(env: str) -> Stack:
        binary = require_tool()
        (tmp_path / env).mkdir()
        moto, url = start_stack_moto(tmp_path / env)
        started.append(moto)
        stack = Stack(env, copy_infra(tmp_path / env, url), url, binary, tmp_path / f"{env}.log")
        owners_first_steps(stack)
        add_test_vars(stack, {"github_repository": REPOSITORY})
        if env == "dev":
            enable_stream_edge(stack)
            add_test_vars(stack, {"node_count_max": DEV_NODES})
        return stack

    yield build
    for moto in started:
        moto.stop()


def timed(stack: Stack, step: str, action: Callable[[], T]) -> T:
    started = time.monotonic()
    try:
        return action()
    finally:
        stack.timings[step] = round(time.monotonic() - started, 1)


def round_trip(stack: Stack, on_applied: Callable[[Stack], None] | None = None) -> dict[str, Any]:
    """The whole trip; returns what the closing assertions and the summary need."""
    timed(stack, "init", stack.init)
    first = timed(stack, "plan", lambda: stack.plan("first.plan"))
    created = [a for a, actions in changes(first).items() if actions == ("create",)]
    tags = stack_tags(stack).items()
    planned = {r["address"]: r.get("values", {}) for r in planned_resources(first)}
    untagged = [
        a for a, v in planned.items() if "tags_all" in v and not tags <= v["tags_all"].items()
    ]
    assert len([v for v in planned.values() if "tags_all" in v]) > 50, "no tags_all planned"
    timed(stack, "apply", lambda: stack.apply("first.plan"))
    applied = [a for a in stack.state() if ".data." not in a and not a.startswith("data.")]
    if on_applied:
        timed(stack, "app", lambda: on_applied(stack))
    drift = changes(timed(stack, "second plan", lambda: stack.plan("second.plan")))
    stack.empty_buckets()  # as the owner must: versioned buckets are deleted only empty
    timed(stack, "destroy", stack.destroy)
    return {
        "created": created,
        "untagged": untagged,
        "applied": applied,
        "drift": drift,
        "left": stack.state(),
    }


def check_stream_edge(stack: Stack) -> None:
    """The function URL streams from the prod alias to anyone, and the function behind it
    is the router with its own token checks, run by the Lambda Web Adapter."""
    env = lambda_env(stack, STREAM_FUNCTION)
    router = next(s for s in check_settings("router", env) if isinstance(s, RouterSettings))
    assert not router.trust_gateway_claims and router.v1_stream_live
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    url = stack.client("lambda").get_function_url_config(
        FunctionName=f"{stack.name}-{STREAM_FUNCTION}", Qualifier="prod"
    )
    assert (url["AuthType"], url["InvokeMode"]) == ("NONE", "RESPONSE_STREAM")
    assert stack.outputs()["stream_url"] == url["FunctionUrl"]


def check_nodes(stack: Stack, count: int) -> None:
    """node_count_max instances, each tagged as the node (what the router starts by), named
    by its index, stopped after apply; the outputs list them, node-0 first."""
    tag = "tinyllama" if stack.env == "prod" else f"tinyllama-{stack.env}"
    found = stack.client("ec2").describe_instances(Filters=[{"Name": "tag:env", "Values": [tag]}])
    instances = [i for r in found["Reservations"] for i in r["Instances"]]
    names = sorted(next(t["Value"] for t in i["Tags"] if t["Key"] == "Name") for i in instances)
    assert names == [f"{stack.name}-node-{n}" for n in range(count)]
    assert {i["State"]["Name"] for i in instances} == {"stopped"}
    outputs = stack.outputs()
    assert sorted(outputs["node_instance_ids"]) == sorted(i["InstanceId"] for i in instances)
    assert outputs["node_instance_id"] == outputs["node_instance_ids"][0]
    lambda_vars = lambda_env(stack, "scheduled_check")
    assert lambda_vars["TLFIF_NODE_COUNT_MAX"] == str(count)
    assert lambda_vars["TLFIF_SCALE_OUT_BACKLOG"] == "8"


def check_reply_events(stack: Stack) -> None:
    """ADR 0031: the webhook sender runs outside the VPC with no Redis, publishing to the
    encrypted replies topic, and the replies bucket runs its prod alias for reply objects
    only."""
    sender = stack.client("lambda").get_function_configuration(
        FunctionName=f"{stack.name}-webhook_sender"
    )
    assert not sender.get("VpcConfig", {}).get("SubnetIds")
    env = sender["Environment"]["Variables"]
    assert "TLFIF_REDIS_URL" not in env
    topic_arn = stack.outputs()["replies_topic_arn"]
    assert env["TLFIF_SENDER_TOPIC_ARN"] == topic_arn
    topic = stack.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert topic["KmsMasterKeyId"] == "alias/aws/sns"
    bucket = stack.outputs()["replies_bucket"]
    found = stack.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    (config,) = found["LambdaFunctionConfigurations"]
    assert config["LambdaFunctionArn"].endswith(f":function:{stack.name}-webhook_sender:prod")
    assert config["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in config["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "replies/", "suffix": ".json"}


def check_alarms_and_deploy_role(stack: Stack) -> None:
    """ADR 0033's alarms exist with their missing-data rules; the deploy role trusts the
    repository's branch and v* tags only, through GitHub's provider for STS."""
    outputs = stack.outputs()
    names = [f"{stack.name}-{suffix}" for suffix in BROKEN_ALARMS]
    assert set(names) <= set(outputs["alarm_names"])
    found = stack.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    missing = {a["AlarmName"].removeprefix(f"{stack.name}-"): a["TreatMissingData"] for a in found}
    assert missing == {
        **dict.fromkeys(BROKEN_ALARMS, "notBreaching"),
        "spend-silent": "breaching",
        "ping-dead": "breaching",
    }
    iam = stack.client("iam")
    (provider,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])[
        "ClientIDList"
    ] == ["sts.amazonaws.com"]
    role = iam.get_role(RoleName=f"{stack.name}-deploy")["Role"]
    assert outputs["deploy_role_arn"] == role["Arn"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": provider["Arn"]}
    host = "token.actions.githubusercontent.com"
    assert statement["Condition"]["StringEquals"] == {f"{host}:aud": "sts.amazonaws.com"}
    subjects = statement["Condition"]["StringLike"][f"{host}:sub"]
    assert sorted(subjects) == [f"repo:{REPOSITORY}:ref:refs/heads/main",
                                f"repo:{REPOSITORY}:ref:refs/tags/v*"]  # fmt: skip


def test_dev_and_prod_round_trips_and_the_app_runs_on_what_dev_created(
    stack_for: Callable[[str], Stack],
    redis_cluster_server: RedisServer,
    engine_process: Callable[..., EngineProcess],
    tmp_path: Path,
) -> None:
    engine = engine_process()

    def app_runs(stack: Stack) -> None:
        for function in LAMBDAS:
            check_settings(function, lambda_env(stack, function))
        check_settings("node", node_env(stack))
        check_nodes(stack, DEV_NODES)
        check_stream_edge(stack)
        check_reply_events(stack)
        check_alarms_and_deploy_role(stack)
        reply = run_one_prompt(stack, redis_cluster_server.url, engine.url, tmp_path)
        assert reply.status == "done"

    def check_prod(stack: Stack) -> None:
        check_nodes(stack, 1)
        check_alarms_and_deploy_role(stack)

    dev, prod = stack_for("dev"), stack_for("prod")
    with ThreadPoolExecutor(2) as pool:
        trips = {
            dev.env: pool.submit(round_trip, dev, app_runs),
            prod.env: pool.submit(round_trip, prod, check_prod),
        }
        results = {env: trip.result() for env, trip in trips.items()}
    for stack in (dev, prod):
        found = results[stack.env]
        print(
            f"\n{stack.env}: {len(found['created'])} created, {len(found['applied'])} managed, "
            f"second plan {len(found['drift'])} known drift, {len(found['left'])} left; "
            f"seconds {stack.timings}"
        )
        unexplained = {a: found["drift"][a] for a in set(found["drift"]) - set(KNOWN_DRIFT)}
        assert unexplained == {}, f"{stack.env}: the second plan changes more than moto explains"
        assert len(found["applied"]) == len(found["created"])
        # Computed by the real provider from default_tags: a mock would invent it.
        assert found["untagged"] == [], f"{stack.env}: without the stack's tags"
        assert found["left"] == []
