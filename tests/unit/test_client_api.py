"""ApiClient against RouterApiDouble: bodies, errors from the JSON body, 401 handling, waiting."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.doubles.identity_double import TokenSourceDouble
from tests.doubles.router_api_double import RouterApiDouble, error_response
from tlfif import errors
from tlfif.client.api import ApiClient
from tlfif.client.error_responses import error_from_response
from tlfif.client.errors import (
    ServiceUnavailable,
    ServiceUnreachable,
    UnexpectedResponse,
    WaitTimedOut,
)
from tlfif.contracts import InferRequest, NodeStatus, Pending, Reply
from tlfif.errors import TlfifError

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def router() -> RouterApiDouble:
    return RouterApiDouble()


@pytest.fixture
def tokens() -> TokenSourceDouble:
    return TokenSourceDouble()


@pytest.fixture
def api(router: RouterApiDouble, tokens: TokenSourceDouble) -> Iterator[ApiClient]:
    with ApiClient("http://router.test/", tokens, transport=router.transport()) as client:
        yield client


def prompt(text: str = "hello") -> InferRequest:
    return InferRequest(prompt=text, idle=3, max_tokens=16)


def test_submit_sends_the_body_the_key_and_the_token(
    api: ApiClient, router: RouterApiDouble
) -> None:
    accepted = api.submit(prompt(), idempotency_key="key-1")
    assert accepted.status == "starting"
    (sent,) = router.sent("POST /infer")
    assert sent.headers["Idempotency-Key"] == "key-1"
    assert sent.headers["Authorization"] == "Bearer access-0"
    assert router.jobs[accepted.id].body == {"prompt": "hello", "idle": 3, "max_tokens": 16}


def test_a_lost_answer_to_a_keyed_submit_is_retried_with_the_same_key(
    router: RouterApiDouble, tokens: TokenSourceDouble
) -> None:
    attempts: list[httpx.Request] = []

    def drop_first_answer(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        response = router.handle(request)  # the router queued it ...
        if len(attempts) == 1:
            raise httpx.ReadError("connection reset", request=request)  # ... the 202 is lost
        return response

    with ApiClient(
        "http://router.test", tokens, transport=httpx.MockTransport(drop_first_answer)
    ) as api:
        accepted = api.submit(prompt(), idempotency_key="key-1")
    assert [a.headers["Idempotency-Key"] for a in attempts] == ["key-1", "key-1"]
    assert list(router.jobs) == [accepted.id]  # queued once


def test_an_unkeyed_submit_is_not_resent(tokens: TokenSourceDouble) -> None:
    calls: list[httpx.Request] = []

    def reset(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError("connection reset", request=request)

    transport = httpx.MockTransport(reset)
    with (
        ApiClient("http://router.test", tokens, transport=transport) as api,
        pytest.raises(ServiceUnavailable, match="did not answer"),
    ):
        api.submit(prompt())
    assert len(calls) == 1


def test_a_401_refreshes_the_token_and_retries_once(
    api: ApiClient, router: RouterApiDouble, tokens: TokenSourceDouble
) -> None:
    router.refuse_first_token = True
    accepted = api.submit(prompt(), idempotency_key="key-1")
    assert router.bearer_tokens("POST /infer") == ["access-0", "access-1"]
    assert {r.headers["Idempotency-Key"] for r in router.sent("POST /infer")} == {"key-1"}
    assert tokens.refreshes == 1
    assert list(router.jobs) == [accepted.id]


@pytest.mark.parametrize("gateway_body", [False, True])
def test_a_second_401_is_final(
    api: ApiClient, router: RouterApiDouble, tokens: TokenSourceDouble, gateway_body: bool
) -> None:
    router.refused_tokens = {"access-0", "access-1"}
    router.refuse_with_gateway_body = gateway_body
    with pytest.raises(errors.TokenInvalid):
        api.status()
    assert len(router.sent("GET /status")) == 2
    assert tokens.refreshes == 1


@pytest.mark.parametrize(
    ("response", "expected", "retry_after"),
    [
        (error_response(400, "invalid_input", "idle: too big"), errors.InvalidInput, None),
        (error_response(404, "not_found", "no job"), errors.JobNotFound, None),
        (error_response(429, "throttled", "slow down", retry_after=7), errors.Throttled, 7),
        (
            error_response(503, "budget_reached", "budget", retry_after=3600),
            errors.BudgetHold,
            3600,
        ),
        (
            error_response(503, "node_start_refused", "no GPU", retry_after=30),
            errors.NodeStartRefused,
            30,
        ),
        (
            error_response(503, "queue_unavailable", "redis", retry_after=5),
            errors.QueueUnavailable,
            5,
        ),
        (error_response(503, "unavailable", "busy", retry_after=5), ServiceUnavailable, 5),
        (httpx.Response(429, json={"message": "Too Many Requests"}), errors.Throttled, 1),
        (httpx.Response(503, text="Service Unavailable"), ServiceUnavailable, 5),
        (httpx.Response(500, json={"message": "Internal Server Error"}), ServiceUnavailable, 5),
        (httpx.Response(403, json={"message": "Forbidden"}), errors.Forbidden, None),
        (httpx.Response(418, text="teapot"), UnexpectedResponse, None),
    ],
)
def test_errors_come_from_the_json_body_or_else_the_status(
    response: httpx.Response, expected: type[TlfifError], retry_after: int | None
) -> None:
    response.request = httpx.Request("GET", "http://router.test/status")
    error = error_from_response(response)
    assert type(error) is expected
    assert error.retry_after == retry_after


def test_the_field_of_a_400_is_kept() -> None:
    response = httpx.Response(
        400, json={"error": {"code": "invalid_input", "message": "bad", "field": "idle"}}
    )
    assert error_from_response(response).field == "idle"


def test_result_is_pending_then_the_reply(api: ApiClient, router: RouterApiDouble) -> None:
    router.phases = [("queued", "booting")]
    job_id = api.submit(prompt()).id
    pending = api.result(job_id, wait=60)
    assert isinstance(pending, Pending)
    assert pending.node == "booting"
    reply = api.result(job_id)
    assert isinstance(reply, Reply)
    assert reply.text == router.reply_text
    # ?wait is capped at the router's 25 s; no wait is no parameter at all.
    assert [r.url.params.get("wait") for r in router.sent("GET /result")] == ["25", None]


def test_wait_for_reply_reports_each_phase_and_never_spins(
    api: ApiClient, router: RouterApiDouble
) -> None:
    job_id = api.submit(prompt()).id
    seen: list[tuple[str, str]] = []
    pauses: list[float] = []
    reply = api.wait_for_reply(
        job_id,
        on_pending=lambda p: seen.append((p.status, p.node)),
        poll_seconds=10,
        min_interval_seconds=1.0,
        sleep=pauses.append,
    )
    assert reply.status == "done"
    assert seen == [
        ("queued", "starting"),
        ("queued", "booting"),
        ("queued", "loading"),
        ("running", "ready"),
    ]
    assert [r.url.params["wait"] for r in router.sent("GET /result")] == ["10"] * 5
    # The double answers at once: the client pauses itself rather than poll in a loop.
    assert len(pauses) == 4
    assert all(0.9 < p <= 1.0 for p in pauses)


def test_wait_for_reply_sits_out_a_throttle(api: ApiClient, router: RouterApiDouble) -> None:
    router.phases = []
    job_id = api.submit(prompt()).id
    router.canned["GET /result"] = error_response(429, "throttled", "slow", retry_after=3)
    retries: list[tuple[str, float]] = []

    def sleep(seconds: float) -> None:
        router.canned.clear()  # the throttle has passed

    reply = api.wait_for_reply(
        job_id, on_retry=lambda exc, pause: retries.append((exc.code, pause)), sleep=sleep
    )
    assert reply.status == "done"
    assert retries == [("throttled", 3.0)]


def test_wait_for_reply_gives_up_at_its_deadline(api: ApiClient, router: RouterApiDouble) -> None:
    router.phases = [("queued", "starting")] * 10_000
    job_id = api.submit(prompt()).id
    with pytest.raises(WaitTimedOut) as caught:
        api.wait_for_reply(job_id, timeout_seconds=0.05, min_interval_seconds=0.0)
    assert caught.value.job_id == job_id


def test_wait_for_reply_does_not_retry_an_unknown_id(api: ApiClient) -> None:
    with pytest.raises(errors.JobNotFound):
        api.wait_for_reply(UNKNOWN_ID, sleep=lambda s: None)


def test_stop_and_status(api: ApiClient, router: RouterApiDouble) -> None:
    router.start_error = "InsufficientInstanceCapacity"
    job_id = api.submit(prompt()).id
    status = api.status()
    assert status == NodeStatus.model_validate(
        {
            "node": "stopped",
            "queue_depth": 1,
            "pending": [job_id],
            "hold": None,
            "start_error": {"message": "InsufficientInstanceCapacity", "ts_ms": 1},
        }
    )
    stopping = api.stop()
    assert (stopping.status, stopping.node) == ("stopping", "stopping")
    assert api.status().hold == "manual"


def test_a_body_outside_the_contract_is_an_unexpected_response(
    api: ApiClient, router: RouterApiDouble
) -> None:
    router.canned["GET /status"] = httpx.Response(200, json={"node": "sleeping"})
    with pytest.raises(UnexpectedResponse, match="GET /status"):
        api.status()


def test_nothing_listening_is_unreachable(tokens: TokenSourceDouble) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with ApiClient(url, tokens) as api, pytest.raises(ServiceUnreachable) as caught:
        api.status()
    assert caught.value.url == url
