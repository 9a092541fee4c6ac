"""tlfif/webhook_delivery.py against a real HTTPS receiver (tests/doubles/
webhook_receiver_double.py, under a CA made for the test) and a real DNS server double:
the signed POST, where it connects, what it retries, and DNS rebinding (ADR 0031)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.doubles.dns_server_double import DnsServerDouble
from tests.doubles.webhook_receiver_double import Received, WebhookReceiverDouble
from tlfif.contracts import Reply, Usage
from tlfif.webhook_contracts import WebhookProfile, verify_signature
from tlfif.webhook_delivery import (
    USER_AGENT,
    DeliveryPolicy,
    WebhookCaller,
    tls_context,
)
from tlfif.webhook_secrets import new_profile
from tlfif.webhook_targets import nameserver_resolver

JOB_ID = "0c8e1f52-5d4b-4f7e-9a51-2b1c4d6e8f00"
REPLY_KEY = f"replies/a-sub/{JOB_ID}.json"
# The names the receiver's certificate is good for; each test answers its own in the DNS.


class SleepRecorder:
    """WebhookCaller's injected sleep: remembers each wait, waits none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every (address, port) httpx's sync transport opened a TCP connection to."""
    opened: list[tuple[str, int]] = []
    original = socket.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        opened.append((str(address[0]), int(address[1])))
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    return opened


CallerFor = Callable[..., WebhookCaller]


@pytest.fixture
def caller_for(
    receiver: WebhookReceiverDouble, dns: DnsServerDouble, sleeps: SleepRecorder
) -> CallerFor:
    def make(
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 2.0,
        ca_file: str | None = None,
    ) -> WebhookCaller:
        policy = DeliveryPolicy(attempts, backoff_seconds, timeout_seconds, allow_loopback=True)
        ca = str(receiver.ca_file) if ca_file is None else ca_file
        return WebhookCaller(
            policy, nameserver_resolver(dns.nameserver), tls_context(ca), sleep=sleeps
        )

    return make


@pytest.fixture
def profile() -> WebhookProfile:
    return new_profile()


def a_reply() -> Reply:
    return Reply(
        id=JOB_ID,
        status="done",
        text="the answer is 42",
        model="tinyllama",
        usage=Usage(prompt_tokens=7, completion_tokens=5),
        finish_reason="stop",
        latency_ms=1200,
        queued_ms=30,
    )


def new_since(receiver: WebhookReceiverDouble, mark: int) -> list[Received]:
    return receiver.deliveries()[mark:]


def test_delivered_signed_to_the_checked_address_under_the_name(
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    connections: list[tuple[str, int]],
    sleeps: SleepRecorder,
) -> None:
    mark, asked = len(receiver.deliveries()), dns.queries["receiver.test"]
    delivery = caller_for().deliver(receiver.url(), a_reply(), REPLY_KEY, profile)

    assert (delivery.outcome, delivery.attempts, delivery.status) == ("delivered", 1, 200)
    assert delivery.delivered_ms is not None
    [got] = new_since(receiver, mark)
    assert got.path == "/hook"
    headers = got.headers
    assert verify_signature(
        profile.secret, headers["x-tlfif-timestamp"], got.body, headers["x-tlfif-signature"]
    )
    assert abs(int(headers["x-tlfif-timestamp"]) - time.time()) < 60
    assert headers["x-tlfif-delivery"] == JOB_ID
    assert headers["x-tlfif-event"] == "reply"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == USER_AGENT
    # TLS and HTTP name the host; the TCP connection went to the address the DNS gave.
    assert got.sni == "receiver.test"
    assert headers["host"] == f"receiver.test:{receiver.port}"
    assert connections == [("127.0.0.1", receiver.port)]
    assert dns.queries["receiver.test"] == asked + 1
    assert sleeps.waits == []

    body = json.loads(got.body)
    assert body["type"] == "reply" and body["id"] == JOB_ID and body["status"] == "done"
    assert body["reply_key"] == REPLY_KEY and body["attempt"] == 1
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 5}
    assert body["finish_reason"] == "stop" and body["latency_ms"] == 1200
    assert "text" not in body


def test_the_text_is_sent_only_when_the_profile_says_so(
    receiver: WebhookReceiverDouble, caller_for: CallerFor
) -> None:
    mark = len(receiver.deliveries())
    with_text = new_profile(include_text=True)
    assert caller_for().deliver(receiver.url(), a_reply(), REPLY_KEY, with_text).outcome == (
        "delivered"
    )
    [got] = new_since(receiver, mark)
    assert json.loads(got.body)["text"] == "the answer is 42"
    headers = got.headers
    assert verify_signature(
        with_text.secret, headers["x-tlfif-timestamp"], got.body, headers["x-tlfif-signature"]
    )


def test_any_2xx_is_delivered(
    receiver: WebhookReceiverDouble, caller_for: CallerFor, profile: WebhookProfile
) -> None:
    delivery = caller_for().deliver(receiver.url(path="/status/204"), a_reply(), REPLY_KEY, profile)
    assert (delivery.outcome, delivery.status) == ("delivered", 204)


def test_a_5xx_is_tried_attempts_times_with_a_doubling_wait(
    receiver: WebhookReceiverDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    sleeps: SleepRecorder,
) -> None:
    mark = len(receiver.deliveries())
    caller = caller_for(attempts=4, backoff_seconds=0.25)
    delivery = caller.deliver(receiver.url(path="/status/500"), a_reply(), REPLY_KEY, profile)

    assert (delivery.outcome, delivery.attempts, delivery.status) == ("failed", 4, 500)
    assert sleeps.waits == [0.25, 0.5, 1.0]
    tries = new_since(receiver, mark)
    assert [json.loads(one.body)["attempt"] for one in tries] == [1, 2, 3, 4]
    # The same delivery each time (a receiver dedupes on it), each try signed afresh.
    assert {one.headers["x-tlfif-delivery"] for one in tries} == {JOB_ID}
    for one in tries:
        headers = one.headers
        assert verify_signature(
            profile.secret, headers["x-tlfif-timestamp"], one.body, headers["x-tlfif-signature"]
        )


@pytest.mark.parametrize("status", [429, 408, 503])
def test_a_receiver_asking_for_later_is_tried_again(
    status: int,
    receiver: WebhookReceiverDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    sleeps: SleepRecorder,
) -> None:
    mark = len(receiver.deliveries())
    url = receiver.url(path=f"/status/{status}")
    delivery = caller_for(attempts=2, backoff_seconds=0.1).deliver(
        url, a_reply(), REPLY_KEY, profile
    )
    assert (delivery.outcome, delivery.attempts, delivery.status) == ("failed", 2, status)
    assert len(new_since(receiver, mark)) == 2
    assert sleeps.waits == [0.1]


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_4xx_is_not_tried_again(
    status: int,
    receiver: WebhookReceiverDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    sleeps: SleepRecorder,
) -> None:
    mark = len(receiver.deliveries())
    url = receiver.url(path=f"/status/{status}")
    delivery = caller_for(attempts=4).deliver(url, a_reply(), REPLY_KEY, profile)
    assert (delivery.outcome, delivery.attempts, delivery.status) == ("rejected", 1, status)
    assert len(new_since(receiver, mark)) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_never_followed(
    status: int,
    receiver: WebhookReceiverDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    connections: list[tuple[str, int]],
) -> None:
    """The double's redirects point at the metadata address."""
    mark = len(receiver.deliveries())
    url = receiver.url(path=f"/status/{status}")
    delivery = caller_for(attempts=4).deliver(url, a_reply(), REPLY_KEY, profile)
    assert (delivery.outcome, delivery.attempts, delivery.status) == ("rejected", 1, status)
    assert "never followed" in delivery.detail
    assert [one.path for one in new_since(receiver, mark)] == [f"/status/{status}"]
    assert connections == [("127.0.0.1", receiver.port)]


def test_a_certificate_for_another_name_is_not_delivered_to(
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
) -> None:
    dns.answer("impostor.test", "127.0.0.1")  # the receiver's certificate does not name it
    mark = len(receiver.deliveries())
    url = receiver.url(host="impostor.test")
    delivery = caller_for(attempts=2, backoff_seconds=0).deliver(url, a_reply(), REPLY_KEY, profile)
    assert (delivery.outcome, delivery.status) == ("failed", None)
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.detail
    assert new_since(receiver, mark) == []


def test_a_ca_the_sender_does_not_trust_is_not_delivered_to(
    receiver: WebhookReceiverDouble, caller_for: CallerFor, profile: WebhookProfile
) -> None:
    """Without TLFIF_SENDER_CA_FILE only the public trust store counts."""
    mark = len(receiver.deliveries())
    caller = caller_for(attempts=1, ca_file="")
    delivery = caller.deliver(receiver.url(), a_reply(), REPLY_KEY, profile)
    assert delivery.outcome == "failed" and "CERTIFICATE_VERIFY_FAILED" in delivery.detail
    assert new_since(receiver, mark) == []


class SilentServer:
    """Accepts TCP connections and never answers (not even the TLS handshake)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        for one in self.accepted:
            one.close()
        self._socket.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.accepted.append(connection)


def test_a_receiver_that_never_answers_fails_after_attempts_timeouts(
    dns: DnsServerDouble, caller_for: CallerFor, profile: WebhookProfile, sleeps: SleepRecorder
) -> None:
    dns.answer("silent.test", "127.0.0.1")
    with SilentServer() as silent:
        caller = caller_for(attempts=2, backoff_seconds=0.1, timeout_seconds=0.3)
        url = f"https://silent.test:{silent.port}/hook"
        delivery = caller.deliver(url, a_reply(), REPLY_KEY, profile)
        assert (delivery.outcome, delivery.attempts, delivery.status) == ("failed", 2, None)
        assert "Timeout" in delivery.detail
        assert len(silent.accepted) == 2
    assert sleeps.waits == [0.1]


def test_nothing_listening_at_the_checked_address_fails(
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    connections: list[tuple[str, int]],
) -> None:
    """The name resolves to 127.0.0.2, where nothing listens: the connection goes there
    (and fails), not to any other address the name might have elsewhere."""
    dns.answer("loop2.test", "127.0.0.2")
    mark = len(receiver.deliveries())
    url = receiver.url(host="loop2.test")
    delivery = caller_for(attempts=2, backoff_seconds=0).deliver(url, a_reply(), REPLY_KEY, profile)
    assert (delivery.outcome, delivery.status) == ("failed", None)
    assert "ConnectError" in delivery.detail
    assert connections == [("127.0.0.2", receiver.port)] * 2
    assert new_since(receiver, mark) == []


def test_a_host_that_rebinds_to_the_metadata_address_is_refused_on_the_next_try(
    receiver: WebhookReceiverDouble,
    dns: DnsServerDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    connections: list[tuple[str, int]],
) -> None:
    dns.answer("rebind.test", "127.0.0.1", "169.254.169.254")
    mark = len(receiver.deliveries())
    url = receiver.url(host="rebind.test", path="/status/500")
    delivery = caller_for(attempts=4, backoff_seconds=0).deliver(url, a_reply(), REPLY_KEY, profile)

    assert (delivery.outcome, delivery.attempts, delivery.status) == ("refused", 2, None)
    assert "169.254.169.254" not in delivery.detail
    assert [one.sni for one in new_since(receiver, mark)] == ["rebind.test"]
    assert connections == [("127.0.0.1", receiver.port)]


def test_a_host_refused_from_the_start_is_never_connected_to(
    dns: DnsServerDouble,
    caller_for: CallerFor,
    profile: WebhookProfile,
    connections: list[tuple[str, int]],
    sleeps: SleepRecorder,
) -> None:
    dns.answer("refuse.test", "10.0.0.5")
    delivery = caller_for(attempts=4).deliver(
        "https://refuse.test/hook", a_reply(), REPLY_KEY, profile
    )
    assert (delivery.outcome, delivery.attempts) == ("refused", 1)
    assert connections == [] and sleeps.waits == []


def test_a_name_the_dns_does_not_know_is_refused(
    caller_for: CallerFor, profile: WebhookProfile, connections: list[tuple[str, int]]
) -> None:
    delivery = caller_for().deliver("https://unknown.test/hook", a_reply(), REPLY_KEY, profile)
    assert delivery.outcome == "refused" and "does not resolve" in delivery.detail
    assert connections == []
