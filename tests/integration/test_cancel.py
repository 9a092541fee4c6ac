"""POST /cancel/{id} on a real redis-server, a real WatcherNode and the engine double: a
queued job never reaches the engine, a running one stops between tokens with the text so
far, a cancel racing the reply gives one answer, an answered job is a 409, another user's a
404."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.doubles.cloud import ReplyStoreDouble
from tests.doubles.engine_double import EngineDouble
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on
from tests.fixtures.watcher_node import watcher
from tests.integration.test_router_openai import v1_settings, warm_router
from tlfif import keys
from tlfif.contracts import Reply, reply_key_for
from tlfif.tokens import follow

pytestmark = pytest.mark.anyio
# Sixty words, a token each: three seconds at the engine double's 50 ms a token.
LONG = " ".join(f"word{i}" for i in range(60))


async def cancel(router: RouterHarness, job_id: str, sub: str = "alice") -> httpx.Response:
    return await router.client.post(f"/cancel/{job_id}", headers=router.auth(sub))


async def until_async(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_queued_job_is_answered_cancelled_and_never_reaches_the_engine(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    store = ReplyStoreDouble()
    prompt = "never run this prompt"
    async with router_on(
        redis_server, token_issuer, settings=v1_settings(token_issuer), replies=store
    ) as router:
        job_id = (await router.infer({"prompt": prompt})).json()["id"]  # no node is up
        answer = await cancel(router, job_id)
        assert answer.status_code == 200, answer.text
        reply = Reply.model_validate(answer.json())
        assert reply.status == "cancelled" and reply.text == "" and reply.error
        assert (await router.result(job_id)).json() == answer.json()
        assert await router.queue.pending_for(sub_of("alice")) == []
        async with watcher(redis_server.url, engine_double.url, store=store) as node:
            await node.until_ready()
            # The node meets the id in the pending list and drops it by its tombstone.
            await until_async(lambda: _empty(router), 5)
        again = await cancel(router, job_id)
    assert engine_double.double.requests_for(prompt) == 0
    assert store.puts == 1
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    assert '"cancelled"' in again.json()["error"]["message"]


async def _empty(router: RouterHarness) -> bool:
    pending = await router.redis.llen(keys.PENDING)
    held = await router.redis.llen(keys.inflight("node-test"))
    return pending == 0 and held == 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_running_job_stops_between_tokens_with_the_text_so_far(
    redis_server: RedisServer,
    token_issuer: TokenIssuerDouble,
    engine_double: RunningEngineDouble,
    stream: bool,
) -> None:
    engine = engine_double.double
    engine.token_delay_seconds = 0.05
    async with warm_router(redis_server, token_issuer, engine_double) as router:
        body = {"prompt": LONG, "max_tokens": 100, "stream": stream}
        job_id = (await router.infer(body)).json()["id"]
        await until_async(lambda: _after_some_tokens(router, engine, job_id, stream), 10)
        answer = await cancel(router, job_id)
        assert answer.status_code == 200, answer.text
        reply = Reply.model_validate(answer.json())
        # The engine's stream was dropped: the request left it, well before its three seconds.
        await until_async(lambda: _idle(engine), 2)
        stored = router.replies.stored(reply_key_for(sub_of("alice"), job_id))
        streamed = [p async for _, p in follow(router.redis, job_id)] if stream else []
    assert reply.status == "cancelled" and stored == reply
    assert reply.text and LONG.startswith(reply.text) and len(reply.text) < len(LONG)
    assert reply.usage.completion_tokens == len(reply.text.split())
    if stream:
        assert "".join(p.text for p in streamed) == reply.text
        assert streamed[-1].end == "cancelled"


async def _after_some_tokens(
    router: RouterHarness, engine: EngineDouble, job_id: str, stream: bool
) -> bool:
    if stream:
        return bool(await router.redis.xlen(keys.tokens(job_id)) >= 3)
    await asyncio.sleep(0.3)  # a few tokens after the engine took it
    return engine.in_flight > 0


async def _idle(engine: EngineDouble) -> bool:
    return engine.in_flight == 0


async def test_a_cancel_racing_the_reply_gives_one_answer(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    """Twenty jobs of about 60 ms each, each cancelled at a random moment between its
    submission and twice the time a reply takes here: whatever the cancel answered is what
    the job's reply says, and the reply is written once (the store double refuses a second
    write, as S3's If-None-Match does)."""
    engine_double.double.token_delay_seconds = 0.01
    rng = random.Random(17)
    outcomes: set[str] = set()
    prompt = "one two three four five six"
    async with warm_router(redis_server, token_issuer, engine_double) as router:
        began = time.monotonic()
        timed = (await router.infer({"prompt": prompt})).json()["id"]
        assert (await router.result(timed, wait=10)).json()["status"] == "done"
        reply_seconds = time.monotonic() - began  # on this machine, under its load now
        for round_ in range(20):
            body = {"prompt": prompt, "stream": round_ % 2 == 0}
            job_id = (await router.infer(body)).json()["id"]
            await asyncio.sleep(rng.uniform(0.0, 2 * reply_seconds))
            answer = await cancel(router, job_id)
            final = (await router.result(job_id, wait=10)).json()
            if answer.status_code == 200:
                assert answer.json() == final and final["status"] == "cancelled"
            else:
                assert answer.status_code == 409, answer.text
                assert f'"{final["status"]}"' in answer.json()["error"]["message"]
                assert final["status"] == "done"
            outcomes.add(final["status"])
            key = reply_key_for(sub_of("alice"), job_id)
            assert router.replies.stored(key) == Reply.model_validate(final)
    # The spread of moments lands on both sides of the reply.
    assert outcomes == {"cancelled", "done"}


async def test_an_answered_job_is_a_409_and_another_users_job_a_404(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    async with warm_router(redis_server, token_issuer, engine_double) as router:
        job_id = (await router.infer({"prompt": "answer me"})).json()["id"]
        assert (await router.result(job_id, wait=10)).json()["status"] == "done"
        answered = await cancel(router, job_id)
        assert (await cancel(router, job_id, sub="bob")).status_code == 404
        assert (await cancel(router, "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11")).status_code == 404
        assert (await cancel(router, "not-a-job-id")).status_code == 404
        assert (await router.result(job_id)).json()["status"] == "done"
    assert answered.status_code == 409
    assert answered.json()["error"]["code"] == "already_answered"
    assert '"done"' in answered.json()["error"]["message"]
