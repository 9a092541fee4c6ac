"""The app on what `apply` created: every deployable's settings read back from the emulator,
validated by the strict settings, then one prompt through a router and a watcher configured
from them, its reply read from the bucket apply created.

Only OVERRIDDEN may differ from the read-back, each for its reason; anything else the HCL
names differently from the code fails here, as it would at a Lambda's start.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from jose import jwt
from pydantic_settings import BaseSettings

from local.emulator import FAKE_CREDENTIALS
from local.processes import ChildProcess, wait_until_answers
from router.lambda_app import LambdaRouter
from router.wiring import deps_from_env
from tests.doubles.cloud import MetricsDouble
from tests.doubles.lambda_context import LambdaContextDouble
from tests.doubles.lambda_events import http_api_event
from tests.fixtures.redis_servers import free_port
from tests.infra.hcl import node_env_script
from tests.infra.terraform_stack import REGION, Stack
from tlfif.contracts import Reply, reply_key_for
from tlfif.settings import (
    BudgetSettings,
    CheckSettings,
    CommonSettings,
    CostSettings,
    HealthSettings,
    PingSettings,
    RouterSettings,
    SenderSettings,
    StrictSettings,
    WatcherSettings,
)

ROOT = Path(__file__).resolve().parents[2]
# What each deployable loads at its start (its handler or watcher/main.py).
SETTINGS: dict[str, tuple[type[StrictSettings], ...]] = {
    "router": (CommonSettings, RouterSettings),
    "queue_health": (CommonSettings, HealthSettings),
    "cost_publisher": (CommonSettings, CostSettings),
    "budget_killer": (CommonSettings, BudgetSettings),
    "scheduled_check": (CommonSettings, CheckSettings),
    "webhook_sender": (CommonSettings, SenderSettings),
    "ping_check": (CommonSettings, PingSettings),
    "node": (CommonSettings, WatcherSettings),
}
OVERRIDDEN = {
    "TLFIF_REDIS_URL": "the ElastiCache stand-in has no server: the test's own cluster-mode Redis",
    "AWS_ENDPOINT_URL": "AWS is moto",
    "TLFIF_WATCHER_ENGINE_URL": "no vLLM here: the engine double",
    "TLFIF_WATCHER_IMDS_URL": "no EC2 metadata here: local/imds.py, serving the applied node's id",
}


def lambda_env(stack: Stack, function: str) -> dict[str, str]:
    """A function's environment as GetFunctionConfiguration returns it."""
    found = stack.client("lambda").get_function_configuration(
        FunctionName=f"{stack.name}-{function}"
    )
    variables: dict[str, str] = found.get("Environment", {}).get("Variables", {})
    return variables


def node_env(stack: Stack) -> dict[str, str]:
    """The node's env file as its boot script renders it from the SSM parameters."""
    path = f"/{stack.name}/node/env"
    pages = stack.client("ssm").get_paginator("get_parameters_by_path")
    parameters = [
        {"Name": p["Name"], "Value": p["Value"]}
        for page in pages.paginate(Path=path, WithDecryption=True)
        for p in page["Parameters"]
    ]
    text = node_env_script().env_text(parameters, path)
    env = {}
    for line in text.splitlines():
        name, _, quoted = line.partition("=")
        (env[name],) = shlex.split(quoted)  # systemd's quoting is a shell's, for "..."
    return env


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """os.environ holding exactly `variables` for TLFIF_* and AWS_*, as a fresh runtime's."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith(("TLFIF_", "AWS_"))]:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check_settings(deployable: str, env: Mapping[str, str]) -> list[BaseSettings]:
    """The deployable's settings from `env` alone; a ConfigError names what is wrong."""
    with environment(env):
        return [kind.load() for kind in SETTINGS[deployable]]


def aws_env(stack: Stack) -> dict[str, str]:
    return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": stack.moto_url, "AWS_DEFAULT_REGION": REGION}


def gateway_claims_of(token: str) -> dict[str, str]:
    """What API Gateway's JWT authorizer hands the router: every claim as a string, an
    array as "[a b]"."""
    claims = jwt.get_unverified_claims(token)
    return {
        name: f"[{' '.join(value)}]" if isinstance(value, list) else str(value)
        for name, value in claims.items()
    }


def access_token(stack: Stack, outputs: dict[str, Any]) -> str:
    """A user of the pool apply created, signed in through its CLI client."""
    idp = stack.client("cognito-idp")
    pool, user, password = outputs["user_pool_id"], "user@example.com", "Correct-horse-9!"
    idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=password, Permanent=True)
    answer = idp.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=outputs["cli_client_id"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password},
    )
    token: str = answer["AuthenticationResult"]["AccessToken"]
    return token


def run_one_prompt(stack: Stack, redis_url: str, engine_url: str, log_dir: Path) -> Reply:
    """POST /infer to a router and have a watcher answer it, both configured from the
    read-back; returns the reply as stored in the applied bucket."""
    outputs = stack.outputs()
    router_env = lambda_env(stack, "router") | {"TLFIF_REDIS_URL": redis_url} | aws_env(stack)
    watcher = node_env(stack) | aws_env(stack) | {"TLFIF_REDIS_URL": redis_url}
    imds_port = free_port()
    imds = ChildProcess(
        "imds",
        [sys.executable, "-m", "local.imds", "--instance-id", outputs["node_instance_id"],
         "--region", REGION, "--port", str(imds_port)],
        os.environ, log_dir,
    )  # fmt: skip
    wait_until_answers(imds, f"http://127.0.0.1:{imds_port}/latest/meta-data/instance-id", 15)
    watcher |= {
        "TLFIF_WATCHER_ENGINE_URL": engine_url,
        "TLFIF_WATCHER_IMDS_URL": f"http://127.0.0.1:{imds_port}",
    }
    claims = gateway_claims_of(access_token(stack, outputs))
    node = _start_watcher(watcher, log_dir)
    try:
        with environment(router_env):
            router = LambdaRouter(deps_from_env(MetricsDouble()))
            try:
                job_id = _submit(router, claims)
                body = _await_reply(router, claims, job_id)
            finally:
                router.close()
    finally:
        node.terminate()  # SIGTERM: the watcher drains and exits
        try:
            node.wait(20)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait(5)
        imds.stop()
    key = reply_key_for(claims["sub"], job_id)
    stored = stack.client("s3").get_object(Bucket=router_env["TLFIF_BUCKET"], Key=key)
    reply = Reply.model_validate_json(stored["Body"].read())
    assert reply.text == body["text"]
    return reply


def _start_watcher(env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TLFIF_", "AWS_"))}
    with (log_dir / "watcher.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "watcher"], env=base | env, cwd=ROOT,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _invoke(router: LambdaRouter, event: dict[str, Any]) -> tuple[int, Any]:
    answer = router(event, LambdaContextDouble())
    return answer["statusCode"], json.loads(answer["body"] or "null")


def _submit(router: LambdaRouter, claims: dict[str, str]) -> str:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    event = http_api_event(
        "POST", "/infer", body={"prompt": "hello"}, headers=headers, claims=claims
    )
    status, body = _invoke(router, event)
    assert status == 202, body
    job_id: str = body["id"]
    return job_id


def _await_reply(router: LambdaRouter, claims: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        event = http_api_event("GET", f"/result/{job_id}", query="wait=5", claims=claims)
        status, body = _invoke(router, event)
        if status == 200:
            assert body["status"] == "done", body
            return dict(body)
        assert status == 202, body
    pytest.fail(f"no reply to {job_id} within 90 s")
