"""gui/aws_backend.py against RouterApiDouble (the router's API, checked against
openapi.yaml): what is sent, what each answer becomes, which errors are retried."""

from __future__ import annotations

import json

import httpx
import pytest

from gui.aws_backend import AwsTinyLlamaClient
from gui.backend import AWS_TINYLLAMA, Answer, Fleet, Waiting
from gui.backend_errors import (
    BackendAuthError,
    BackendBusy,
    BackendRefused,
    BackendTransient,
    ReplyFailed,
)
from tests.doubles.identity_double import TokenSourceDouble
from tests.doubles.router_api_double import RouterApiDouble, error_response
from tlfif.client.api import ApiClient
from tlfif.client.errors import LoginFailed
from tlfif.contracts import Message, NodeInfo

COST = {
    "billed": None,
    "estimate": {
        "eur": 4.2,
        "running_seconds": 600,
        "node_hourly_usd": 0.526,
        "as_of_ms": 1,
        "age_seconds": 12,
    },
}


def client(router: RouterApiDouble, tokens: TokenSourceDouble | None = None) -> AwsTinyLlamaClient:
    api = ApiClient(
        "http://router.test", tokens or TokenSourceDouble(), transport=router.transport()
    )
    return AwsTinyLlamaClient(api, local=True)


def chat(*contents: str) -> list[Message]:
    roles = ["user", "assistant"]
    return [Message(role=roles[i % 2], content=c) for i, c in enumerate(contents)]


def test_a_prompt_is_sent_with_the_conversation_the_idle_minutes_and_a_key() -> None:
    router = RouterApiDouble()
    ticket = client(router).send_prompt(
        chat("hi", "hello", "how are you?"), idle_minutes=12, key="k-1"
    )
    [request] = router.sent("POST /infer")
    assert json.loads(request.content) == {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "how are you?"},
        ],
        "idle": 12,
        "stream": True,  # the window shows the text as it comes (GET /result/{id}/events)
    }
    assert request.headers["Idempotency-Key"] == "k-1"
    assert (ticket.backend, ticket.phase) == (AWS_TINYLLAMA, "starting")
    assert ticket.id in router.jobs


def test_a_retried_send_with_the_same_key_queues_once() -> None:
    router = RouterApiDouble()
    backend = client(router)
    first = backend.send_prompt(chat("hi"), idle_minutes=5, key="same")
    again = backend.send_prompt(chat("hi"), idle_minutes=5, key="same")
    assert first.id == again.id and len(router.jobs) == 1


def test_waiting_long_polls_through_the_cold_start_phases_to_the_reply() -> None:
    router = RouterApiDouble(reply_text="Hello from TinyLlama")
    backend = client(router)
    ticket = backend.send_prompt(chat("hi"), idle_minutes=5, key="k")
    answers = [backend.get_response(ticket, wait_seconds=20) for _ in range(5)]
    assert answers[:4] == [
        Waiting("starting", node="starting"),
        Waiting("booting", node="booting"),
        Waiting("loading", node="loading"),
        Waiting("generating", node="ready"),
    ]
    assert answers[4] == Answer(text="Hello from TinyLlama", model="gemma-3-270m", latency_ms=1500)
    assert {r.url.params["wait"] for r in router.sent("GET /result/")} == {"20"}


@pytest.mark.parametrize("status", ["error", "expired"])
def test_a_reply_without_text_is_a_failure_naming_its_status(status: str) -> None:
    router = RouterApiDouble(phases=[], reply_status=status, reply_error="engine failed")  # type: ignore[arg-type]
    backend = client(router)
    ticket = backend.send_prompt(chat("hi"), idle_minutes=5, key="k")
    with pytest.raises(
        ReplyFailed, match=f"^{AWS_TINYLLAMA}: the reply is {status}: engine failed"
    ):
        backend.get_response(ticket, wait_seconds=20)


def test_stop_cancels_the_job_and_its_cancelled_reply_is_the_answer_marked_stopped() -> None:
    router = RouterApiDouble()
    backend = client(router)
    ticket = backend.send_prompt(chat("hi"), idle_minutes=5, key="k")
    answer = backend.cancel(ticket)
    assert answer == Answer(text="", model=None, latency_ms=None, stopped=True)
    assert [r.url.path for r in router.sent("POST /cancel/")] == [f"/cancel/{ticket.id}"]
    # The wait reads the same reply: a cancelled reply is an answer, not a failure.
    assert backend.get_response(ticket, wait_seconds=20) == answer


def test_a_stop_after_the_reply_landed_409_gives_the_reply_that_landed() -> None:
    router = RouterApiDouble(phases=[], reply_text="It landed first")
    backend = client(router)
    ticket = backend.send_prompt(chat("hi"), idle_minutes=5, key="k")
    answer = backend.cancel(ticket)
    assert answer == Answer(text="It landed first", model="gemma-3-270m", latency_ms=1500)


def test_a_stop_the_node_has_not_done_yet_202_leaves_the_reply_to_the_wait() -> None:
    cancelling = httpx.Response(202, json={"status": "cancelling", "id": "j"})
    router = RouterApiDouble(canned={"POST /cancel/": cancelling})
    backend = client(router)
    ticket = backend.send_prompt(chat("hi"), idle_minutes=5, key="k")
    assert backend.cancel(ticket) is None


def test_a_401_refreshes_the_token_once_and_retries() -> None:
    router = RouterApiDouble(refuse_first_token=True)
    tokens = TokenSourceDouble()
    client(router, tokens).send_prompt(chat("hi"), idle_minutes=5, key="k")
    assert router.bearer_tokens("POST /infer") == ["access-0", "access-1"]
    assert tokens.refreshes == 1


def test_a_second_401_is_an_auth_error_naming_the_backend() -> None:
    router = RouterApiDouble(refused_tokens={"access-0", "access-1"}, refuse_with_gateway_body=True)
    with pytest.raises(BackendAuthError, match=f"^{AWS_TINYLLAMA}: "):
        client(router).send_prompt(chat("hi"), idle_minutes=5, key="k")


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_502_and_504_are_transient(status: int) -> None:
    router = RouterApiDouble(canned={"POST /infer": httpx.Response(status, json={"message": "x"})})
    with pytest.raises(BackendTransient, match=f"^{AWS_TINYLLAMA}: "):
        client(router).send_prompt(chat("hi"), idle_minutes=5, key="k")


def test_no_connection_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = ApiClient(
        "http://router.test", TokenSourceDouble(), transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(BackendTransient, match="cannot reach"):
        AwsTinyLlamaClient(api, local=True).fleet()


def test_throttling_is_busy_with_its_retry_after() -> None:
    throttled = error_response(429, "throttled", "too many", retry_after=3)
    router = RouterApiDouble(canned={"POST /infer": throttled})
    with pytest.raises(BackendBusy) as caught:
        client(router).send_prompt(chat("hi"), idle_minutes=5, key="k")
    assert caught.value.retry_after == 3


def test_a_budget_hold_is_final() -> None:
    hold = error_response(503, "budget_reached", "budget reached", retry_after=3600)
    router = RouterApiDouble(canned={"POST /infer": hold})
    with pytest.raises(BackendRefused, match="budget hold"):
        client(router).send_prompt(chat("hi"), idle_minutes=5, key="k")


def test_stop_posts_stop_and_returns_the_node_stopping() -> None:
    router = RouterApiDouble(node="ready")
    assert client(router).stop() == "stopping"
    assert len(router.sent("POST /stop")) == 1


def test_cost_and_node_state_come_from_get_cost_and_get_status() -> None:
    router = RouterApiDouble(node="ready", canned={"GET /cost": httpx.Response(200, json=COST)})
    backend = client(router)
    view = backend.cost()
    assert view.estimate is not None and view.estimate.eur == 4.2
    assert backend.fleet() == Fleet(phase="ready")


def test_each_node_comes_from_get_status_too() -> None:
    nodes = [NodeInfo(node="i-0a", phase="ready", active=1), NodeInfo(node="i-0b", phase="booting")]
    router = RouterApiDouble(node="ready", nodes=nodes)
    assert client(router).fleet() == Fleet(phase="ready", nodes=tuple(nodes))


def test_a_failed_login_says_so_without_the_clis_advice() -> None:
    class RefusingTokens:
        def access_token(self, *, force_refresh: bool = False) -> str:
            raise LoginFailed("the hosted UI refused the login (access_denied)")

    api = ApiClient("http://router.test", RefusingTokens(), transport=RouterApiDouble().transport())
    with pytest.raises(BackendAuthError) as caught:
        AwsTinyLlamaClient(api, local=False).fleet()
    assert caught.value.message == (
        f"{AWS_TINYLLAMA}: login failed: the hosted UI refused the login (access_denied); "
        "send again to log in"
    )


def test_a_wake_starts_the_node_with_the_idle_minutes_and_leaves_a_hold_alone() -> None:
    router = RouterApiDouble()
    backend = client(router)
    assert backend.wake(7) == "starting"
    assert [json.loads(r.content) for r in router.sent("POST /wake")] == [{"idle": 7}]
    router.node, router.hold = "stopped", "manual"  # the owner's Stop GPU
    assert backend.wake(7) == "stopped"
    assert len(router.sent("POST /wake")) == 1
