"""schemathesis over openapi.yaml against the real router (uvicorn, real Redis): bounded
examples of every operation, valid and invalid, with the owner's token, a plain user's and
none. No answer is a 5xx other than the documented 503s, every 4xx carries the JSON error
body, and every answer is one the document describes."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from router.app import create_app
from router.deps import RouterDeps
from tests.doubles.api_key_store_double import ApiKeyStoreDouble
from tests.doubles.cloud import MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.doubles.usage_store_double import UsageStoreDouble
from tests.doubles.webhook_records_double import WebhookRecordsDouble
from tests.doubles.webhook_secrets_double import WebhookSecretsDouble
from tests.fixtures.redis_servers import RedisServer, free_port
from tests.fixtures.router_app import router_settings
from tlfif.auth import TokenVerifier
from tlfif.redis_conn import connect
from tlfif.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")


def operations() -> list[Any]:
    """Every operation of the document; one that schemathesis cannot read fails here."""
    found = []
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), f"openapi.yaml: {result.err()}"
        found.append(result.ok())
    return found


OPERATIONS = operations()
# no_cover: thousands of generated requests through the tracer more than doubled the suite
# (47 -> 114 s); the router's own tests cover its lines.
pytestmark = pytest.mark.no_cover
# What to send: valid inputs to every operation, invalid ones to each that takes any (the
# probes and the chat page take only the optional X-Request-Id, which any string satisfies).
NO_INPUT = {("GET", "/ping"), ("GET", "/queue-health"), ("GET", "/"), ("GET", "/keys")}
CASES = [
    pytest.param(operation, mode, id=f"{mode.value}-{operation.method} {operation.path}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (operation.method.upper(), operation.path) not in NO_INPUT
]
# Per operation and mode: enough to reach every branch of the input rules, few enough that
# the whole suite stays well inside its 3 minutes.
EXAMPLES = 30


@pytest.fixture(scope="module")
def issuer() -> TokenIssuerDouble:
    return TokenIssuerDouble()


@pytest.fixture(scope="module")
def base_url(redis7: RedisServer, issuer: TokenIssuerDouble) -> Iterator[str]:
    """The router under uvicorn on Redis 7 (flushed once: the cases share one queue)."""
    redis7.flush()

    deps = RouterDeps(
        # No node answers here: a /v1 request waits this long, then answers 503.
        settings=router_settings(issuer, v1_wait_seconds=0.1),
        common=CommonSettings(),
        verifier=TokenVerifier(
            issuer.issuer,
            issuer.jwks_url,
            [issuer.client_id],
            http=httpx.AsyncClient(transport=issuer.transport()),
        ),
        metrics=MetricsDouble(),
        replies=ReplyStoreDouble(),
        node_control=NodeControlDouble,
        redis=lambda: connect(redis7.url),
        api_keys=ApiKeyStoreDouble(),
        webhook_secrets=WebhookSecretsDouble(),
        webhook_records=WebhookRecordsDouble(),
        usage=UsageStoreDouble(),
        # Every host the fuzz makes up is a public one (no DNS query leaves the test); IP
        # literals are checked as they are.
        webhook_resolve=lambda host, port: [ipaddress.ip_address("93.184.215.14")],
    )
    port = free_port()
    config = uvicorn.Config(create_app(deps), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzzed-router", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


# The error body's fields: OpenAI's under /v1, but for a refused preflight's (the CORS
# middleware answers it before any route).
NATIVE_ERROR, OPENAI_ERROR = {"code", "message", "field"}, {"message", "type", "param", "code"}


def check(response: requests.Response, label: str, path: str) -> None:
    assert response.status_code < 500 or response.status_code == 503, (label, response.text)
    if response.status_code >= 400 and response.content:
        error = response.json()["error"]
        preflight_refused = response.request.method == "OPTIONS" and response.status_code == 403
        openai_shaped = path.startswith("/v1/") and not preflight_refused
        assert set(error) == (OPENAI_ERROR if openai_shaped else NATIVE_ERROR), (
            label,
            response.text,
        )
        assert isinstance(error["message"], str) and error["message"], label


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_no_input_makes_the_router_fail(
    operation: Any, mode: GenerationMode, base_url: str, issuer: TokenIssuerDouble
) -> None:
    tokens = {
        "owner": issuer.access_token("alice"),
        "plain": issuer.access_token("bob"),
        "none": None,
    }
    session = requests.Session()

    @given(case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(list(tokens)))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any, who: str) -> None:
        headers = {"Authorization": f"Bearer {tokens[who]}"} if tokens[who] else {}
        response = case.call(base_url=base_url, session=session, headers=headers)
        label = f"{case.method} {case.formatted_path} as {who}"
        check(response, label, case.path)
        if mode is GenerationMode.POSITIVE:
            case.validate_response(response)

    try:
        fuzz()
    finally:
        session.close()
