"""The router refuses bad input and bad tokens: the right status, the JSON error body,
the failing field named, and nothing queued."""

from __future__ import annotations

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.router_app import RouterHarness

pytestmark = pytest.mark.anyio


async def submit(router: RouterHarness) -> str:
    response = await router.infer({"prompt": "hello"})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


# --- bad bodies and parameters ---------------------------------------------------------


@pytest.mark.parametrize("wait", ["26", "-1", "abc", "1.5"])
async def test_bad_wait_is_a_400_naming_wait(router: RouterHarness, wait: str) -> None:
    job_id = await submit(router)
    response = await router.client.get(
        f"/result/{job_id}", params={"wait": wait}, headers=router.auth()
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "wait"


BAD_BODIES = [
    pytest.param({"prompt": "a" * 6145}, "prompt", id="6145-bytes"),
    pytest.param({"prompt": "é" * 3073}, "prompt", id="multibyte-over-cap"),
    pytest.param({"prompt": "€" * 2049}, "prompt", id="3-byte-chars-over-cap"),
    pytest.param(
        {"messages": [{"role": "user", "content": "a" * 3000}] * 3}, "messages", id="sum-over-cap"
    ),
    pytest.param({"prompt": "x", "idle": 0}, "idle", id="idle-0"),
    pytest.param({"prompt": "x", "idle": 31}, "idle", id="idle-31"),
    pytest.param({"prompt": "x", "idle": "five"}, "idle", id="idle-text"),
    pytest.param({"prompt": 5}, "prompt", id="prompt-number"),
    pytest.param({"prompt": "x", "temperature": "hot"}, "temperature", id="temperature-text"),
    pytest.param({"messages": "hi"}, "messages", id="messages-string"),
    pytest.param(
        {"messages": [{"role": "user", "content": 5}]}, "messages.0.content", id="content-int"
    ),
    pytest.param({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role", id="role"),
    pytest.param({"messages": [{"role": "user"}]}, "messages.0.content", id="missing-content"),
    pytest.param({"messages": []}, "messages", id="no-messages"),
    pytest.param({"prompt": "   "}, "prompt", id="blank-prompt"),
    pytest.param({}, None, id="neither"),
    pytest.param({"prompt": "x", "messages": [{"role": "user", "content": "x"}]}, None, id="both"),
    pytest.param({"prompt": "x", "surprise": 1}, "surprise", id="unknown-field"),
    pytest.param(["prompt", "x"], "body", id="json-array"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_bad_body_is_a_400_naming_the_field(
    router: RouterHarness, body: object, field: str | None
) -> None:
    response = await router.infer(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field and error["message"]
    assert await router.queue.depth() == 0


@pytest.mark.parametrize("raw", [b"", b"prompt=hello", b'{"prompt": ', b"\xff\xfe"])
async def test_non_json_body_is_a_400_naming_body(router: RouterHarness, raw: bytes) -> None:
    response = await router.client.post("/infer", content=raw, headers=router.auth())
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"


async def test_content_of_exactly_6144_bytes_is_accepted(router: RouterHarness) -> None:
    assert (await router.infer({"prompt": "a" * 6144})).status_code == 202
    assert (await router.infer({"prompt": "é" * 3072})).status_code == 202


async def test_overlong_idempotency_key_is_a_400(router: RouterHarness) -> None:
    response = await router.infer({"prompt": "x"}, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "Idempotency-Key"


# --- tokens -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_authorizations(token_issuer: TokenIssuerDouble) -> dict[str, str | None]:
    """Every way an Authorization header fails, by name."""
    issuer = token_issuer
    forger = TokenIssuerDouble(kid=issuer.kid)  # same kid, another key
    return {
        "missing": None,
        "empty": "",
        "not-bearer": "Basic YWxpY2U6c2VjcmV0",
        "garbled": "Bearer not.a.jwt",
        "expired": f"Bearer {issuer.access_token(expires_in=-60)}",
        "wrongly-signed": f"Bearer {forger.access_token()}",
        "id-token": f"Bearer {issuer.id_token()}",
        "wrong-client": f"Bearer {issuer.access_token(client_id='someone-else')}",
        "wrong-issuer": f"Bearer {issuer.access_token(iss='https://evil.example')}",
        "unknown-kid": f"Bearer {TokenIssuerDouble(kid='key-9').access_token()}",
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/infer"), ("GET", "/status"), ("POST", "/stop"), ("GET", "/result/x")],
)
async def test_every_token_failure_is_a_401_with_www_authenticate(
    router: RouterHarness, bad_authorizations: dict[str, str | None], method: str, path: str
) -> None:
    for name, authorization in bad_authorizations.items():
        headers = {} if authorization is None else {"Authorization": authorization}
        response = await router.client.request(method, path, json={"prompt": "x"}, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        assert response.json()["error"]["code"] == "unauthorized", name
    assert await router.queue.depth() == 0 and router.node.calls == []
