"""GET /result/{id}/events: a job's phases, tokens and reply as server-sent events, on a
real redis-server with a real WatcherNode on the engine double (or, for a restarted
generation, the token stream written by the test as two watchers would)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on
from tests.integration.test_router_openai import v1_settings, warm_router
from tlfif import keys
from tlfif.contracts import Reply, reply_key_for
from tlfif.delivery import deliver

pytestmark = pytest.mark.anyio
SAID = "one two three four five six"


async def read_events(router: RouterHarness, job_id: str, sub: str = "alice") -> list[Any]:
    """(event, data) pairs until the stream ends; a response that is not a stream is
    returned as its status."""
    url = f"/result/{job_id}/events"
    async with router.client.stream("GET", url, headers=router.auth(sub)) as response:
        if response.status_code != 200:
            return [response.status_code]
        assert response.headers["content-type"].startswith("text/event-stream")
        found: list[Any] = []
        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((name, json.loads(line.removeprefix("data: "))))
        return found


async def test_a_streamed_job_sends_its_tokens_then_its_reply(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.03
    async with warm_router(redis_server, token_issuer, engine_double) as router:
        accepted = await router.infer({"prompt": SAID, "stream": True})
        assert accepted.status_code == 202
        found = await read_events(router, accepted.json()["id"])
    names = [name for name, _ in found]
    assert names[0] == "phase" and found[0][1] == {"node": "ready"}
    assert names[-1] == "reply" and found[-1][1]["status"] == "done"
    tokens = [data["text"] for name, data in found if name == "token"]
    assert len(tokens) > 1 and "".join(tokens) == found[-1][1]["text"] == SAID
    assert "reset" not in names


async def test_a_job_not_streamed_gets_its_phase_and_its_reply(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    async with warm_router(redis_server, token_issuer, engine_double) as router:
        accepted = await router.infer({"prompt": SAID})
        found = await read_events(router, accepted.json()["id"])
        names = [name for name, _ in found]  # no phase if the reply beat the first read
        assert names[-1] == "reply" and set(names) <= {"phase", "reply"}
        assert found[-1][1]["text"] == SAID
        assert not await router.redis.exists(keys.tokens(accepted.json()["id"]))


async def test_where_the_transport_cannot_stream_the_events_come_at_once_and_say_so(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    async with warm_router(
        redis_server, token_issuer, engine_double, v1_stream_live=False
    ) as router:
        accepted = await router.infer({"prompt": SAID, "stream": True})
        url = f"/result/{accepted.json()['id']}/events"
        async with router.client.stream("GET", url, headers=router.auth("alice")) as response:
            assert response.headers["x-tlfif-stream"] == "buffered"
    async with warm_router(redis_server, token_issuer, engine_double) as live:
        accepted = await live.infer({"prompt": SAID, "stream": True})
        url = f"/result/{accepted.json()['id']}/events"
        async with live.client.stream("GET", url, headers=live.auth("alice")) as response:
            assert "x-tlfif-stream" not in response.headers


async def test_only_the_submitter_may_follow_a_job(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    async with router_on(redis_server, token_issuer, settings=v1_settings(token_issuer)) as router:
        accepted = await router.infer({"prompt": SAID, "stream": True})
        job_id = accepted.json()["id"]
        assert await read_events(router, job_id, sub="bob") == [404]
        assert await read_events(router, "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11") == [404]
        assert await read_events(router, "not-a-job-id") == [404]


async def test_a_generation_that_starts_over_is_announced_by_a_reset(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    async with router_on(redis_server, token_issuer, settings=v1_settings(token_issuer)) as router:
        accepted = await router.infer({"prompt": SAID, "stream": True})
        job_id = accepted.json()["id"]
        reading = asyncio.create_task(read_events(router, job_id))
        for attempt, text in [("node-a/1", "one "), ("node-b/1", "uno dos")]:
            await router.redis.xadd(keys.tokens(job_id), {"a": attempt, "t": text})
            await asyncio.sleep(0.2)
        await router.redis.xadd(keys.tokens(job_id), {"a": "node-b/1", "end": "stop"})
        reply = Reply(id=job_id, status="done", text="uno dos", finish_reason="stop")
        alice = sub_of("alice")
        await deliver(router.queue, router.replies, reply_key_for(alice, job_id), reply)
        found = await asyncio.wait_for(reading, 10)
    streamed = [(name, data) for name, data in found if name != "phase"]
    assert streamed == [
        ("token", {"attempt": "node-a/1", "text": "one "}),
        ("reset", {"attempt": "node-b/1"}),
        ("token", {"attempt": "node-b/1", "text": "uno dos"}),
        ("reply", reply.model_dump(mode="json")),
    ]
