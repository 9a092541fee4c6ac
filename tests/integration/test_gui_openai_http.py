"""OpenAiApiClient over real HTTP to an OpenAI-compatible server on loopback: the base URL
setting is all it takes to point the GUI's OpenAI backend at any such server."""

from __future__ import annotations

from gui.backend import Answer
from gui.openai_backend import OpenAiApiClient
from tests.doubles.http_app import http_app
from tests.doubles.openai_api_double import OpenAiApiDouble
from tests.fixtures.asgi_server import serve_asgi
from tlfif.contracts import Message


def test_any_openai_compatible_server_answers_through_the_base_url() -> None:
    double = OpenAiApiDouble(api_key="sk-local", models=("local-model",))
    with serve_asgi(http_app(double.handle), "openai-api-double") as root:
        backend = OpenAiApiClient(
            base_url=f"{root}/v1", model="local-model", api_key=lambda: "sk-local"
        )
        messages = [Message(role="user", content="ping")]
        ticket = backend.send_prompt(messages, idle_minutes=5, key="k")
        answer = backend.get_response(ticket, wait_seconds=20)
        backend.close()
    assert isinstance(answer, Answer)
    assert answer == Answer(
        text="You said: ping", model="local-model", latency_ms=answer.latency_ms
    )
    assert double.bodies[0]["messages"] == [{"role": "user", "content": "ping"}]
