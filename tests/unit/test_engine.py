"""EngineClient against the EngineDouble (vLLM-shaped) and against exact byte streams."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.doubles.engine_double import TEMPLATE_TOKENS_PER_MESSAGE
from tests.fixtures.engine import RunningEngineDouble
from tlfif.contracts import Message, Params
from tlfif.errors import EngineError
from tlfif.settings import WatcherSettings
from watcher.engine import EngineClient


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(engine_double: RunningEngineDouble) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_double.url, "engine-double", "none", 10.0) as engine:
        yield engine


def ask(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sse_client(body: bytes) -> EngineClient:
    """A client whose engine answers every chat request with exactly these bytes."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    transport = httpx.MockTransport(answer)
    return EngineClient("http://engine.test/v1", "m", "none", 5.0, transport=transport)


@pytest.mark.anyio
async def test_whole_reply_with_the_engines_usage(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    done = await client.complete(ask("hello there world"), Params(max_tokens=16))

    assert done.text == "hello there world"
    assert done.finish_reason == "stop"
    assert done.model == "engine-double"
    assert done.usage_source == "engine"
    assert done.usage.prompt_tokens == 3 + TEMPLATE_TOKENS_PER_MESSAGE
    assert done.usage.completion_tokens == 3
    assert done.first_token_ms is not None
    sent = engine_double.double.last_request
    assert sent is not None
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == "engine-double"
    assert "top_p" not in sent  # unset params are left to the engine's defaults


@pytest.mark.anyio
async def test_max_tokens_reached_finishes_with_length(client: EngineClient) -> None:
    done = await client.complete(ask("one two three four five"), Params(max_tokens=3))

    assert done.text == "one two three"
    assert done.finish_reason == "length"
    assert done.usage.completion_tokens == 3


@pytest.mark.anyio
async def test_usage_is_counted_when_the_engine_sends_none(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.omit_usage = True

    done = await client.complete(ask("count these four words"), Params())

    assert done.usage_source == "counted"
    assert done.usage.completion_tokens == 4
    # /extras/tokenize counts message content only, without chat-template tokens.
    assert done.usage.prompt_tokens == 4
    assert done.prompt_tokens_known


@pytest.mark.anyio
async def test_prompt_tokens_unknown_without_a_tokenize_endpoint(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.omit_usage = True
    engine_double.double.tokenize_available = False

    done = await client.complete(ask("a b"), Params())

    assert done.usage.completion_tokens == 2
    assert not done.prompt_tokens_known
    assert done.usage.prompt_tokens == 0


@pytest.mark.anyio
async def test_stream_without_finish_reason_is_an_engine_failure(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.cut_next_streams = 1

    with pytest.raises(EngineError, match="without a finish_reason"):
        await client.complete(ask("one two three four"), Params())
    assert (await client.complete(ask("again"), Params())).text == "again"


@pytest.mark.anyio
async def test_http_500_is_an_engine_failure(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.fail_next_requests = 1

    with pytest.raises(EngineError, match=r"HTTP 500.*injected failure"):
        await client.complete(ask("hi"), Params())
    assert (await client.complete(ask("hi"), Params())).text == "hi"


@pytest.mark.anyio
async def test_unreachable_engine_is_an_engine_failure() -> None:
    url = f"http://127.0.0.1:{unused_port()}/v1"
    async with EngineClient(url, "m", "none", 2.0) as engine:
        with pytest.raises(EngineError, match="unreachable"):
            await engine.complete(ask("hi"), Params())
        assert not await engine.ready()


@pytest.mark.anyio
async def test_a_reply_slower_than_the_timeout_is_an_engine_failure(
    engine_double: RunningEngineDouble,
) -> None:
    engine_double.double.token_delay_seconds = 0.1
    async with EngineClient(engine_double.url, "m", "none", 0.3) as engine:
        with pytest.raises(EngineError, match=r"within 0\.3 s"):
            await engine.complete(ask("w " * 20), Params())


@pytest.mark.anyio
async def test_ready_means_the_engine_produced_a_token(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    assert await client.ready()
    assert engine_double.double.last_request is not None
    assert engine_double.double.last_request["max_tokens"] == 1
    engine_double.double.ready = False  # loading: 503
    assert not await client.ready()
    engine_double.double.ready = True
    # Lists its model but fails to generate (a kernel that faults, a GPU out of memory).
    engine_double.double.fail_next_requests = 1
    assert not await client.ready()
    assert await client.ready()


@pytest.mark.anyio
async def test_concurrent_requests_overlap(
    client: EngineClient, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.05
    replies = await asyncio.gather(*(client.complete(ask(f"job {i}"), Params()) for i in range(4)))

    assert [r.text for r in replies] == [f"job {i}" for i in range(4)]
    assert engine_double.double.max_in_flight == 4
    assert engine_double.double.requests_seen == 4


@pytest.mark.anyio
async def test_llama_cpp_shaped_stream_with_pings_and_bare_newlines() -> None:
    # llama-cpp-python: sse-starlette with sep="\n", ping comments, a role-only first delta,
    # an empty finish delta, no usage chunk.
    body = (
        b": ping - 2026-01-01 00:00:00\n\n"
        b'data: {"model": "gemma", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": null}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    async with sse_client(body) as engine:
        done = await engine.complete(ask("hi"), Params())

    assert (done.text, done.finish_reason, done.model) == ("Hi!", "stop", "gemma")
    assert done.usage.completion_tokens == 2
    assert not done.prompt_tokens_known  # the mock answers tokenize with a stream, not tokens


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"data: {not json\n\n", "malformed SSE"),
        (b"data: [1, 2]\n\n", "malformed SSE"),
        (b'data: {"choices": ["x"]}\n\n', "malformed SSE"),
        (b'data: {"error": {"message": "CUDA out of memory"}}\n\ndata: [DONE]\n\n', "CUDA"),
        (b'data: {"choices": [{"delta": {}, "finish_reason": "abort"}]}\n\n', "abort"),
        (b"", "without a finish_reason"),
    ],
)
async def test_broken_streams_are_engine_failures(body: bytes, message: str) -> None:
    async with sse_client(body) as engine:
        with pytest.raises(EngineError, match=message):
            await engine.complete(ask("hi"), Params())


@pytest.mark.anyio
async def test_built_from_watcher_settings() -> None:
    settings = WatcherSettings(engine_url="http://10.0.0.1:8000/v1/", engine_timeout_seconds=7)
    engine = EngineClient.from_settings(settings)
    await engine.aclose()

    assert (engine.base_url, engine.model, engine.timeout_seconds) == (
        "http://10.0.0.1:8000/v1",
        settings.engine_model,
        7,
    )
