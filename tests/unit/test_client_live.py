"""tlfif.client.live and .events: following a job's events to its reply, over an
httpx.MockTransport that answers GET /result/{id}/events with scripted streams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.doubles.identity_double import TokenSourceDouble
from tlfif.client.api import ApiClient
from tlfif.client.errors import UnexpectedResponse, WaitTimedOut
from tlfif.client.events import PhaseEvent, StreamError, TokenEvent, parse_events
from tlfif.client.live import LiveEnded, follow_reply
from tlfif.client.phase import JobPhase
from tlfif.contracts import Reply

JOB = "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11"
REPLY = Reply(id=JOB, status="done", text="uno dos", finish_reason="stop")


def sse(*events: tuple[str, dict[str, Any]]) -> bytes:
    return b"".join(f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events)


def token(attempt: str, text: str) -> tuple[str, dict[str, Any]]:
    return "token", {"attempt": attempt, "text": text}


NO_ROUTE = {"error": {"code": "not_found", "message": "no such route"}}
THROTTLED = {"error": {"code": "throttled", "message": "slow down", "field": None}}
QUEUE_DOWN = {"code": "queue_unavailable", "message": "queue unavailable"}
REPLIED = ("reply", REPLY.model_dump(mode="json"))
PENDING = ("error", {"code": "reply_pending", "message": "no reply within this stream's time"})


@dataclass
class ListenerDouble:
    said: list[tuple[str, str]] = field(default_factory=list)

    def phase(self, phase: JobPhase) -> None:
        self.said.append(("phase", phase))

    def text(self, delta: str) -> None:
        self.said.append(("text", delta))

    def restarted(self) -> None:
        self.said.append(("restarted", ""))


def api_answering(*answers: httpx.Response | type[httpx.TransportError]) -> ApiClient:
    """An ApiClient whose events requests get these answers, in turn."""
    pending = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/result/{JOB}/events"
        answer = pending.pop(0)
        if isinstance(answer, type):
            raise answer("connection reset", request=request)
        return answer

    return ApiClient(
        "http://router.test", TokenSourceDouble(), transport=httpx.MockTransport(handle)
    )


def stream(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


def follow(api: ApiClient, listener: ListenerDouble) -> Reply | LiveEnded:
    found, _ = follow_reply(api, JOB, listener, deadline=float("inf"))
    return found


def test_phases_then_text_then_the_reply() -> None:
    listener = ListenerDouble()
    body = sse(("phase", {"node": "booting"}), token("n/1", "uno"), token("n/1", " dos"), REPLIED)
    assert follow(api_answering(stream(body)), listener) == REPLY
    assert listener.said == [("phase", "booting"), ("text", "uno"), ("text", " dos")]


def test_a_new_attempt_voids_the_text_before_it() -> None:
    listener = ListenerDouble()
    body = sse(token("a/1", "one"), ("reset", {"attempt": "b/1"}), token("b/1", "uno dos"), REPLIED)
    found, told = follow_reply(api_answering(stream(body)), JOB, listener, deadline=float("inf"))
    assert found == REPLY and told.told == "uno dos"
    assert listener.said == [("text", "one"), ("restarted", ""), ("text", "uno dos")]


def test_a_reset_voids_the_text_even_when_no_text_follows() -> None:
    listener = ListenerDouble()
    failed = Reply(id=JOB, status="error", error="engine failed")
    body = sse(token("a/1", "one"), ("reset", {"attempt": "b/1"}), ("reply", failed.model_dump()))
    found, told = follow_reply(api_answering(stream(body)), JOB, listener, deadline=float("inf"))
    assert found == failed and told.told == ""
    assert listener.said == [("text", "one"), ("restarted", "")]


def test_a_stream_followed_again_skips_the_text_already_told() -> None:
    """The stream's time ran out: the next one replays from the start, void text included."""
    listener = ListenerDouble()
    first = sse(token("a/1", "one"), token("b/1", "uno"), PENDING)
    again = sse(token("a/1", "one"), token("b/1", "uno"), token("b/1", " dos"), REPLIED)
    assert follow(api_answering(stream(first), stream(again)), listener) == REPLY
    assert listener.said == [("text", "one"), ("restarted", ""), ("text", "uno"), ("text", " dos")]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(404, json=NO_ROUTE), "no live events"),
        (httpx.ReadError, "broke (ReadError)"),
        (stream(sse(token("a/1", "one"))), "ended before the reply"),
        (stream(sse(("error", QUEUE_DOWN))), "stopped (queue unavailable)"),
        (httpx.Response(429, json=THROTTLED, headers={"Retry-After": "2"}), "refused (slow"),
    ],
)
def test_live_events_that_cannot_go_on_hand_over_to_polling(
    answer: httpx.Response | type[httpx.TransportError], reason: str
) -> None:
    found = follow(api_answering(answer), ListenerDouble())
    assert isinstance(found, LiveEnded) and reason in found.reason


def test_a_stream_held_back_by_the_gateway_hands_over_to_polling() -> None:
    """API Gateway buffers the stream: its first event comes only when it ends."""
    ticks = iter([0.0, 0.0, 26.0, 26.0])
    api = api_answering(stream(sse(("phase", {"node": "starting"}), PENDING)))
    found, _ = follow_reply(api, JOB, ListenerDouble(), deadline=100.0, clock=lambda: next(ticks))
    assert isinstance(found, LiveEnded) and "gateway" in found.reason


def test_the_wait_ends_at_its_deadline_with_the_job_id() -> None:
    with pytest.raises(WaitTimedOut) as raised:
        follow_reply(api_answering(), JOB, ListenerDouble(), deadline=0.0, clock=lambda: 1.0)
    assert raised.value.job_id == JOB


def test_a_refused_token_is_refreshed_once() -> None:
    refused = httpx.Response(401, json={"message": "Unauthorized"})
    assert follow(api_answering(refused, stream(sse(REPLIED))), ListenerDouble()) == REPLY


def lines(text: str) -> Iterator[str]:
    return iter(text.split("\n"))


def test_parse_events_skips_comments_and_unknown_events_and_joins_data_lines() -> None:
    text = (
        ": keep-alive\n\nevent: later\ndata: {}\n\n"
        "event: phase\ndata: {\"node\":\ndata: \"ready\"}\n\n"
        "event: token\ndata: {\"attempt\": \"a\", \"text\": \"hi\"}\n\n"
        "event: error\ndata: {\"code\": \"reply_pending\"}\n\n"
    )  # fmt: skip
    assert list(parse_events(lines(text))) == [
        PhaseEvent("ready"),
        TokenEvent("a", "hi"),
        StreamError("reply_pending", ""),
    ]


def test_parse_events_refuses_a_body_the_contract_does_not_describe() -> None:
    with pytest.raises(UnexpectedResponse):
        list(parse_events(lines('event: phase\ndata: {"node": "asleep"}\n\n')))
