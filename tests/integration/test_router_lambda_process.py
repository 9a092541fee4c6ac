"""The real Lambda entry point, `router.handler.handler`, in a fresh Python process as the
Lambda runtime runs it: settings from the environment, import-time init, Powertools'
decorators, EMF and log lines on stdout. AWS is moto (EC2, S3); Redis is real.

A process of its own because a cold start happens once per process, and the module builds
everything at import from the environment, as it does on Lambda.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.doubles.lambda_events import SOURCE_IP, gateway_claims, http_api_event
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.emf import emf_records, metric_values
from tests.fixtures.moto_server import BUCKET, REGION
from tests.fixtures.redis_servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]
# Invokes the handler once per event, as the runtime would, in one execution environment.
DRIVER = """
import json, sys
from tests.doubles.lambda_context import LambdaContextDouble
import router.handler
events = json.load(open(sys.argv[1]))
answers = [
    router.handler.handler(
        event, LambdaContextDouble(function_name="tl-fif-router", aws_request_id=f"invocation-{i}")
    )
    for i, event in enumerate(events)
]
json.dump(answers, open(sys.argv[2], "w"))
"""


def run_handler(
    events: list[dict[str, Any]], env: dict[str, str], tmp: Path
) -> tuple[list[Any], str]:
    """The handler's answers, and what it printed."""
    (tmp / "events.json").write_text(json.dumps(events))
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp / "events.json"), str(tmp / "answers.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads((tmp / "answers.json").read_text()), done.stdout


@pytest.fixture
def lambda_env(
    redis_server: RedisServer, aws: str, node_instance: str, replies_bucket: str
) -> dict[str, str]:
    issuer = TokenIssuerDouble()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TLFIF_", "POWERTOOLS_"))
    }
    return env | {
        "TLFIF_REDIS_URL": redis_server.url,
        "TLFIF_BUCKET": BUCKET,
        "TLFIF_REGION": REGION,
        "TLFIF_ROUTER_COGNITO_ISSUER": issuer.issuer,
        "TLFIF_ROUTER_CLIENT_IDS": issuer.client_id,
        "TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS": "true",
        # Nothing listens here: a JWKS fetch would fail every request.
        "TLFIF_ROUTER_JWKS_URL": "http://127.0.0.1:9/jwks.json",
    }


def test_the_lambda_handler_serves_v2_events_with_emf_and_json_logs(
    lambda_env: dict[str, str], node_instance: str, tmp_path: Path
) -> None:
    claims = gateway_claims(TokenIssuerDouble(), "alice")
    claims["iss"] = lambda_env["TLFIF_ROUTER_COGNITO_ISSUER"]
    claims["client_id"] = lambda_env["TLFIF_ROUTER_CLIENT_IDS"]
    secret = "a prompt nobody may log"
    events = [
        http_api_event("POST", "/infer", body={"prompt": secret}, claims=claims),
        http_api_event("GET", "/status", claims=claims),
        http_api_event("GET", "/status"),  # a route without the authorizer: refused
    ]
    answers, out = run_handler(events, lambda_env, tmp_path)

    assert [a["statusCode"] for a in answers] == [202, 200, 401]
    assert json.loads(answers[0]["body"])["status"] == "starting"
    assert json.loads(answers[1]["body"])["pending"] == [json.loads(answers[0]["body"])["id"]]
    state = boto3.client("ec2", region_name=REGION).describe_instances(InstanceIds=[node_instance])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] in ("pending", "running")

    # Powertools names its cold-start metric ColdStart, with a function_name dimension.
    assert metric_values(out, "ColdStart") == [1]  # the first invocation only
    [cold] = [record for record in emf_records(out) if "ColdStart" in record]
    assert cold["function_name"] == "tl-fif-router" and cold["service"] == "router"
    assert metric_values(out, "Requests") == [1]
    assert metric_values(out, "EC2Starts") == [1]
    assert metric_values(out, "QueueDepth") == [1]
    assert all(record["service"] == "router" for record in emf_records(out))

    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("message") == "request"]
    assert [(a["route"], a["status"]) for a in access] == [
        ("/infer", 202), ("/status", 200), ("/status", 401),
    ]  # fmt: skip
    assert all(a["ip"] == SOURCE_IP and isinstance(a["latencyMs"], float) for a in access)
    assert [a.get("sub") for a in access] == [sub_of("alice"), sub_of("alice"), None]
    assert [a["function_request_id"] for a in access] == [f"invocation-{i}" for i in range(3)]
    assert [a["cold_start"] for a in access] == [True, False, False]
    assert access[0]["requestId"] == events[0]["requestContext"]["requestId"]
    assert secret not in out
