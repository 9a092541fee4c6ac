"""gui/openai_backend.py with the official `openai` package against OpenAiApiDouble
(the OpenAI HTTP API in memory, through an httpx2 transport: no network)."""

from __future__ import annotations

import httpx2
import pytest

from gui.backend import OPENAI, Answer
from gui.backend_errors import (
    BackendAuthError,
    BackendBusy,
    BackendRefused,
    BackendTransient,
    NotSupported,
)
from gui.openai_backend import KEYLESS_PLACEHOLDER, OFFICIAL_BASE_URL, OpenAiApiClient
from tests.doubles.openai_api_double import OpenAiApiDouble
from tlfif.contracts import Message

BASE_URL = "http://openai.test/v1"


def client(
    double: OpenAiApiDouble, *, key: str | None = "sk-double", base_url: str = BASE_URL
) -> OpenAiApiClient:
    return OpenAiApiClient(
        base_url=base_url,
        model="gpt-4o-mini",
        api_key=lambda: key,
        http_client=httpx2.Client(transport=double.transport()),
    )


def ask(backend: OpenAiApiClient, *contents: str) -> Answer:
    roles = ("user", "assistant")
    messages = [Message(role=roles[i % 2], content=c) for i, c in enumerate(contents)]
    ticket = backend.send_prompt(messages, idle_minutes=5, key="k")
    answer = backend.get_response(ticket, wait_seconds=20)
    assert isinstance(answer, Answer)
    return answer


def test_the_conversation_goes_to_chat_completions_and_the_reply_comes_back() -> None:
    double = OpenAiApiDouble()
    answer = ask(client(double), "hi", "hello!", "what is 2+2?")
    assert double.bodies == [
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello!"},
                {"role": "user", "content": "what is 2+2?"},
            ],
        }
    ]
    assert double.authorizations == ["Bearer sk-double"]
    assert (answer.text, answer.model) == ("You said: what is 2+2?", "gpt-4o-mini")
    assert answer.latency_ms is not None and answer.latency_ms >= 0


def test_sending_only_hands_over_the_call_happens_while_generating() -> None:
    double = OpenAiApiDouble()
    ticket = client(double).send_prompt(
        [Message(role="user", content="hi")], idle_minutes=5, key="k"
    )
    assert (ticket.backend, ticket.phase) == (OPENAI, "generating")
    assert double.bodies == []


def test_a_refused_key_is_an_auth_error_naming_the_backend() -> None:
    with pytest.raises(BackendAuthError, match=f"^{OPENAI}: HTTP 401 .*Incorrect API key"):
        ask(client(OpenAiApiDouble(), key="sk-wrong"), "hi")


def test_no_key_for_api_openai_com_says_where_to_put_one() -> None:
    backend = client(OpenAiApiDouble(), key=None, base_url=OFFICIAL_BASE_URL)
    with pytest.raises(BackendAuthError, match="OPENAI_API_KEY"):
        ask(backend, "hi")


def test_a_keyless_local_openai_compatible_server_gets_a_placeholder() -> None:
    double = OpenAiApiDouble(api_key=None)
    ask(client(double, key=None), "hi")
    assert double.authorizations == [f"Bearer {KEYLESS_PLACEHOLDER}"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient_and_the_package_does_not_retry_by_itself(status: int) -> None:
    double = OpenAiApiDouble(fail_next=[status])
    with pytest.raises(BackendTransient, match=f"^{OPENAI}: HTTP {status}"):
        ask(client(double), "hi")
    assert len(double.bodies) == 1  # the GUI's own retry rule decides, for both backends


def test_no_connection_is_transient() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    backend = OpenAiApiClient(
        base_url=BASE_URL,
        model="gpt-4o-mini",
        api_key=lambda: "k",
        http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)),
    )
    with pytest.raises(BackendTransient, match=f"cannot reach {BASE_URL}"):
        ask(backend, "hi")


def test_a_rate_limit_is_busy_with_its_retry_after() -> None:
    double = OpenAiApiDouble(fail_next=[429], retry_after=7)
    with pytest.raises(BackendBusy) as caught:
        ask(client(double), "hi")
    assert caught.value.retry_after == 7


def test_an_exhausted_quota_is_final_not_busy() -> None:
    with pytest.raises(BackendRefused, match="quota"):
        ask(client(OpenAiApiDouble(quota_exhausted=True)), "hi")


def test_an_unknown_model_is_final() -> None:
    backend = OpenAiApiClient(
        base_url=BASE_URL,
        model="gpt-nope",
        api_key=lambda: "sk-double",
        http_client=httpx2.Client(transport=OpenAiApiDouble().transport()),
    )
    with pytest.raises(BackendRefused, match="gpt-nope"):
        ask(backend, "hi")


def test_what_openai_cannot_do_is_said_never_faked() -> None:
    backend = client(OpenAiApiDouble())
    assert (backend.can_stop, backend.has_cost) == (False, False)
    for call in (backend.stop, backend.cost, backend.fleet):
        with pytest.raises(NotSupported, match=f"^{OPENAI}: "):
            call()
