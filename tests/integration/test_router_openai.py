"""The router's /v1 routes driven by the official `openai` client, unchanged but for base_url
and api_key, on a real redis-server; a real WatcherNode answers through the engine double.

The client talks to the app in process (httpx2's ASGI transport), so its own retries, its
sleeps on Retry-After and its exception classes are what a user's code meets. Short waits
and a short cold start come from settings and the node double, never from product code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionContentPartParam, ChatCompletionMessageParam

from tests.doubles.cloud import NodeControlDouble, ReplyStoreDouble
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer, free_port
from tests.fixtures.router_app import RouterHarness, open_router, router_on, router_settings
from tests.fixtures.watcher_node import until, watcher
from tlfif import keys
from tlfif.contracts import Reply, reply_key_for
from tlfif.delivery import deliver
from tlfif.nodes import NodeRegistry
from tlfif.redis_conn import connect

pytestmark = pytest.mark.anyio
MODEL = "engine-double"
PROMPT = "one two three"
ALICE = sub_of("alice")
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]


@dataclass
class Attempt:
    retry_count: str | None
    status: int
    headers: dict[str, str]


@dataclass
class CountingTransport(httpx2.AsyncBaseTransport):
    """The ASGI transport, noting every HTTP attempt the client makes."""

    inner: httpx2.AsyncBaseTransport
    attempts: list[Attempt] = field(default_factory=list)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        retry = request.headers.get("x-stainless-retry-count")
        self.attempts.append(Attempt(retry, response.status_code, dict(response.headers)))
        return response


def client_for(
    router: RouterHarness, token: str | None = None, **options: Any
) -> tuple[AsyncOpenAI, CountingTransport]:
    transport = CountingTransport(httpx2.ASGITransport(app=router.app))
    http = httpx2.AsyncClient(transport=transport)
    client = AsyncOpenAI(
        base_url="http://router.test/v1",
        api_key=token or router.issuer.access_token("alice"),
        http_client=http,
        **options,
    )
    return client, transport


def v1_settings(issuer: TokenIssuerDouble, **overrides: Any) -> Any:
    quick = {"served_model": MODEL, "v1_wait_seconds": 5.0, "warm_eta_seconds": 1}
    return router_settings(issuer, **(quick | overrides))


@asynccontextmanager
async def warm_router(
    redis_server: RedisServer,
    issuer: TokenIssuerDouble,
    engine: RunningEngineDouble,
    **settings_changes: Any,
) -> AsyncIterator[RouterHarness]:
    """A ready node (a WatcherNode on the engine double) and the router reading its replies."""
    async with watcher(redis_server.url, engine.url) as node:
        await node.until_ready()
        settings = v1_settings(issuer, **settings_changes)
        async with router_on(redis_server, issuer, settings=settings, replies=node.store) as router:
            yield router


@pytest.fixture
async def router(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> AsyncIterator[RouterHarness]:
    async with warm_router(redis_server, token_issuer, engine_double) as harness:
        yield harness


@asynccontextmanager
async def node_that_boots(
    node: NodeControlDouble, redis_url: str, engine_url: str, store: ReplyStoreDouble, boot: float
) -> AsyncIterator[None]:
    """The node double's StartInstances, then `boot` seconds later a watcher that comes up
    on the engine double: a cold start, as the local stack's agent makes one."""
    running = AsyncExitStack()

    async def boot_once_started() -> None:
        await until(lambda: "start" in node.calls, timeout=10)
        await asyncio.sleep(boot)
        node.current = "running"
        await running.enter_async_context(watcher(redis_url, engine_url, store=store))

    booting = asyncio.create_task(boot_once_started())
    try:
        yield
    finally:
        booting.cancel()
        with suppress(asyncio.CancelledError):
            await booting
        await running.aclose()


async def test_a_chat_completion_is_answered_as_openai_shapes_it(router: RouterHarness) -> None:
    client, transport = client_for(router)
    answer = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": PROMPT}],
        max_completion_tokens=16,
        temperature=0.2,
        # Fields OpenAI's API does not know (or TL-FIF does not) are ignored on /v1.
        extra_body={"frobnicate": True, "cache_salt": "x"},
    )
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    assert answer.model == MODEL and answer.created > 0
    choice = answer.choices[0]
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content == PROMPT
    assert answer.usage is not None and answer.usage.completion_tokens == 3
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + 3
    assert [a.status for a in transport.attempts] == [200]
    # The reply is the job's: the id names it, and it landed in the store once.
    job_id = answer.id.removeprefix("chatcmpl-")
    stored = router.replies.stored(reply_key_for(ALICE, job_id))
    assert stored is not None and stored.text == PROMPT


async def test_a_completion_is_answered_and_max_tokens_cuts_it(router: RouterHarness) -> None:
    client, _ = client_for(router)
    answer = await client.completions.create(model=MODEL, prompt="four five six", max_tokens=2)
    assert answer.object == "text_completion" and answer.id.startswith("cmpl-")
    assert answer.choices[0].text == "four five" and answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 2


async def test_models_lists_the_served_model(router: RouterHarness) -> None:
    client, _ = client_for(router)
    listed = await client.models.list()
    assert [model.id for model in listed.data] == [MODEL]
    assert listed.data[0].object == "model" and listed.data[0].owned_by == "tl-fif"


async def test_n_above_one_is_a_bad_request_naming_n_and_queues_nothing(
    router: RouterHarness,
) -> None:
    client, transport = client_for(router)
    with pytest.raises(openai.BadRequestError) as refused:
        await client.chat.completions.create(model=MODEL, messages=USER, n=2)
    assert refused.value.param == "n" and refused.value.code == "unsupported_parameter"
    assert len(transport.attempts) == 1  # a 400 is not retried
    image: ChatCompletionContentPartParam = {
        "type": "image_url",
        "image_url": {"url": "https://example.com/a.png"},
    }
    with pytest.raises(openai.BadRequestError) as refused:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": [image]}]
        )
    assert refused.value.param == "messages.0.content"
    assert await router.queue.depth() == 0


async def test_errors_are_the_clients_own_exception_classes(
    router: RouterHarness, redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    client, _ = client_for(router, token="not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as unauthorized:
        await client.chat.completions.create(model=MODEL, messages=USER)
    assert unauthorized.value.code == "invalid_api_key"
    client, _ = client_for(router)
    with pytest.raises(openai.NotFoundError) as unknown:
        await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert unknown.value.param == "model" and unknown.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        await client.embeddings.create(model=MODEL, input="no such route")
    tight = v1_settings(token_issuer, throttle_write_per_second=1, throttle_write_per_minute=0)
    async with router_on(redis_server, token_issuer, settings=tight) as throttled:
        # carol, whose writes this test has not counted yet.
        client, _ = client_for(throttled, token_issuer.access_token("carol"), max_retries=0)
        with pytest.raises(openai.BadRequestError):  # refused, but counted: a write
            await client.completions.create(model=MODEL, prompt="x", n=2)
        with pytest.raises(openai.RateLimitError) as limited:
            await client.completions.create(model=MODEL, prompt="x")
        assert limited.value.code == "rate_limit_exceeded"
        assert int(limited.value.response.headers["retry-after"]) >= 1
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = connect(redis_server.url)
    settings = v1_settings(token_issuer)
    async with open_router(
        token_issuer, lambda: connect(closed), test_redis, settings=settings
    ) as down:
        client, _ = client_for(down, max_retries=0)
        with pytest.raises(openai.InternalServerError) as unavailable:
            await client.chat.completions.create(model=MODEL, messages=USER)
        assert unavailable.value.status_code == 503
        # Nothing of Redis's own words (its address, the exception) reaches the caller.
        assert unavailable.value.body == {
            "message": "queue unavailable",
            "type": "server_error",
            "param": None,
            "code": "queue_unavailable",
        }
    await test_redis.aclose()


async def test_a_cold_start_longer_than_the_wait_is_answered_by_the_clients_own_retries(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    node, store = NodeControlDouble(), ReplyStoreDouble()
    # A 1.5 s wait, a node that needs 3.5 s (and a 3 s cold-start estimate for Retry-After).
    settings = v1_settings(token_issuer, v1_wait_seconds=1.5, cold_eta_seconds=3)
    async with (
        router_on(
            redis_server, token_issuer, node=node, replies=store, settings=settings
        ) as router,
        node_that_boots(node, redis_server.url, engine_double.url, store, boot=3.5),
    ):
        client, transport = client_for(router)  # the default: 2 retries
        answer = await client.chat.completions.create(model=MODEL, messages=USER)
    assert answer.choices[0].message.content == PROMPT
    attempts = transport.attempts
    assert len(attempts) >= 2 and attempts[-1].status == 200
    assert [a.retry_count for a in attempts] == [str(n) for n in range(len(attempts))]
    for waited in attempts[:-1]:
        assert waited.status == 503 and waited.headers["x-should-retry"] == "true"
        assert 1 <= int(waited.headers["retry-after"]) <= 120
    # Every try resumed the one job: one prompt reached the engine, one reply was written.
    assert engine_double.double.requests_for(PROMPT) == 1
    assert list(store.replies) == [reply_key_for(ALICE, answer.id.removeprefix("chatcmpl-"))]
    assert node.calls.count("start") == 1


async def test_a_budget_hold_is_a_rate_limit_the_client_does_not_retry(
    router: RouterHarness,
) -> None:
    await NodeRegistry(router.redis).set_hold("budget")
    client, transport = client_for(router)  # the default 2 retries, not spent
    with pytest.raises(openai.RateLimitError) as held:
        await client.chat.completions.create(model=MODEL, messages=USER)
    assert held.value.code == "insufficient_quota"
    assert len(transport.attempts) == 1
    assert transport.attempts[0].headers["x-should-retry"] == "false"
    assert await router.queue.depth() == 0


async def test_the_same_request_again(router: RouterHarness) -> None:
    """ADR 0024's table: the same body anew is a new job (a regenerate regenerates); an
    explicit Idempotency-Key resumes its job, also after the reply."""
    client, _ = client_for(router)
    first = await client.chat.completions.create(model=MODEL, messages=USER)
    again = await client.chat.completions.create(model=MODEL, messages=USER)
    assert first.id != again.id
    keyed = {"Idempotency-Key": "turn-7"}
    one = await client.chat.completions.create(model=MODEL, messages=USER, extra_headers=keyed)
    same = await client.chat.completions.create(model=MODEL, messages=USER, extra_headers=keyed)
    assert one.id == same.id


async def test_a_retry_while_pending_resumes_the_job_and_gets_its_reply(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    """Try by try, as the client numbers them, with no node at all: every try waits on the
    one job, and once it is answered the next try gets the answer."""
    settings = v1_settings(token_issuer, v1_wait_seconds=0.2)
    async with router_on(redis_server, token_issuer, settings=settings) as router:
        body = {"model": MODEL, "prompt": PROMPT}

        async def attempt(count: int) -> Any:
            headers = router.auth() | {"x-stainless-retry-count": str(count)}
            return await router.client.post("/v1/completions", json=body, headers=headers)

        waited = await attempt(0)
        assert waited.status_code == 503 and waited.json()["error"]["code"] == "reply_pending"
        assert "starting" in waited.json()["error"]["message"]
        assert (await attempt(1)).status_code == 503
        assert await router.queue.depth() == 1
        (job_id,) = await router.queue.pending_for(ALICE)
        reply = Reply(id=job_id, status="done", text="answered", finish_reason="stop")
        assert await deliver(router.queue, router.replies, reply_key_for(ALICE, job_id), reply)
        answered = await attempt(2)
        assert answered.status_code == 200 and answered.json()["id"] == f"cmpl-{job_id}"
        assert answered.json()["choices"][0]["text"] == "answered"
        # Anew (try 0) after the reply: a new job.
        assert (await attempt(0)).status_code == 503
        assert len(set(await router.queue.pending_for(ALICE)) - {job_id}) == 1


async def test_a_plain_users_request_under_the_owners_manual_hold_is_not_retried(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    settings = v1_settings(token_issuer)
    async with router_on(redis_server, token_issuer, settings=settings) as router:
        await NodeRegistry(router.redis).set_hold("manual")
        client, transport = client_for(router, token=token_issuer.access_token("bob"))
        with pytest.raises(openai.InternalServerError) as held:
            await client.completions.create(model=MODEL, prompt=PROMPT)
        assert held.value.code == "node_held" and len(transport.attempts) == 1
        assert await router.redis.exists(keys.HOLD) and await router.queue.depth() == 1


# --- stream: true -----------------------------------------------------------------------


async def test_a_streamed_chat_completion_comes_as_openai_chunks(
    router: RouterHarness, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.03
    client, transport = client_for(router)
    stream = await client.chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert [a.status for a in transport.attempts] == [200]
    assert transport.attempts[0].headers["content-type"].startswith("text/event-stream")
    assert "x-tlfif-stream" not in transport.attempts[0].headers  # live: nothing buffered
    assert {chunk.id for chunk in chunks} == {chunks[0].id} and chunks[0].id.startswith("chatcmpl-")
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    texts = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(texts) == PROMPT
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishing[-1] == "stop" and set(finishing[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3
    stored = router.replies.stored(reply_key_for(ALICE, chunks[0].id.removeprefix("chatcmpl-")))
    assert stored is not None and stored.text == PROMPT


async def test_a_streamed_completion_ends_with_its_finish_reason(router: RouterHarness) -> None:
    client, _ = client_for(router)
    stream = await client.completions.create(
        model=MODEL, prompt="four five six", max_tokens=2, stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].text for c in chunks) == "four five"
    assert chunks[-1].choices[0].finish_reason == "length" and chunks[-1].usage is None


async def test_where_the_transport_cannot_stream_the_events_come_at_once(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url) as node:
        await node.until_ready()
        settings = v1_settings(token_issuer, v1_stream_live=False)
        async with router_on(
            redis_server, token_issuer, settings=settings, replies=node.store
        ) as router:
            client, transport = client_for(router)
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
            chunks = [chunk async for chunk in stream]
            job_id = chunks[0].id.removeprefix("chatcmpl-")
            assert not await router.redis.exists(keys.tokens(job_id))  # no token stream kept
    # ... and the response says so (ADR 0028); a live stream carries no such header.
    assert transport.attempts[0].headers["x-tlfif-stream"] == "buffered"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == PROMPT
    assert chunks[-1].choices[0].finish_reason == "stop"


async def stream_against_entries(
    router: RouterHarness, attempts: list[tuple[str, str]], reply_text: str
) -> list[str]:
    """A streamed chat request whose job no node runs: the test writes its token stream
    (attempt, text) entries and then its reply, as watchers would."""
    client, _ = client_for(router)

    async def read() -> list[str]:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        return [c.choices[0].delta.content or "" async for c in stream if c.choices]

    reading = asyncio.create_task(read())
    job_id = ""
    while not job_id:
        pending = await router.queue.pending_for(ALICE)
        job_id = pending[0] if pending else ""
        await asyncio.sleep(0.02)
    for attempt, text in attempts:
        await router.redis.xadd(keys.tokens(job_id), {"a": attempt, "t": text})
        await asyncio.sleep(0.2)
    last = attempts[-1][0]
    await router.redis.xadd(keys.tokens(job_id), {"a": last, "end": "stop"})
    reply = Reply(id=job_id, status="done", text=reply_text, finish_reason="stop")
    await deliver(router.queue, router.replies, reply_key_for(ALICE, job_id), reply)
    return await asyncio.wait_for(reading, 10)


async def test_a_generation_that_restarts_after_text_was_sent_ends_with_an_error_chunk(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    async with router_on(redis_server, token_issuer, settings=v1_settings(token_issuer)) as router:
        with pytest.raises(openai.APIError, match="generated again"):
            await stream_against_entries(
                router, [("node-a/1", "one two "), ("node-b/1", "uno dos tres")], "uno dos tres"
            )


async def test_a_stream_missing_text_is_completed_from_the_reply(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    """Entries lost (a Redis restart) or never written: the reply in S3 fills them in."""
    async with router_on(redis_server, token_issuer, settings=v1_settings(token_issuer)) as router:
        texts = await stream_against_entries(router, [("node-a/1", "one ")], "one two three")
    assert "".join(texts) == "one two three"
