"""A `stream: true` client that goes away before [DONE] (ADR 0024's table): its job is
cancelled unless a retry of the request follows it within the grace; the router served by
uvicorn (a real socket, so the disconnect is one), a real watcher on the engine double."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.asgi_server import serve_asgi_in_loop
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness
from tests.integration.test_router_openai import ALICE, MODEL, warm_router
from tlfif.contracts import Reply, reply_key_for

pytestmark = pytest.mark.anyio
SAID = "one two three four five six seven eight nine ten"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": SAID}], "stream": True}


async def leave_after_first_text(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """Open the stream, read until its first text, hang up; returns the job id."""
    async with http.stream("POST", "/v1/chat/completions", json=BODY, headers=headers) as sent:
        assert sent.status_code == 200
        async for line in sent.aiter_lines():
            if line.startswith("data: {"):
                chunk: dict[str, Any] = json.loads(line.removeprefix("data: "))
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    return str(chunk["id"]).removeprefix("chatcmpl-")
    raise AssertionError("the stream ended before any text")


async def reply_of(router: RouterHarness, job_id: str) -> Reply:
    assert await router.queue.wait_done(job_id, 15), "no reply"
    reply = await router.replies.get_reply(reply_key_for(ALICE, job_id))
    assert reply is not None
    return reply


async def test_a_stream_left_with_no_retry_is_cancelled_after_the_grace(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.2  # ten words: two seconds
    async with (
        warm_router(
            redis_server, token_issuer, engine_double, v1_disconnect_grace_seconds=0.3
        ) as router,
        serve_asgi_in_loop(router.app) as url,
        httpx.AsyncClient(base_url=url, timeout=20) as http,
    ):
        job_id = await leave_after_first_text(http, router.auth("alice"))
        reply = await reply_of(router, job_id)
    assert reply.status == "cancelled"
    assert reply.text and SAID.startswith(reply.text) and reply.text != SAID


async def test_a_stream_left_and_retried_within_the_grace_gets_its_whole_reply(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.2
    async with (
        warm_router(
            redis_server, token_issuer, engine_double, v1_disconnect_grace_seconds=1.5
        ) as router,
        serve_asgi_in_loop(router.app) as url,
        httpx.AsyncClient(base_url=url, timeout=20) as http,
    ):
        headers = router.auth("alice") | {"x-stainless-retry-count": "0"}
        job_id = await leave_after_first_text(http, headers)
        # The client's own retry: the same body, numbered; it resumes the job's stream.
        retried = await http.post(
            "/v1/chat/completions", json=BODY, headers=headers | {"x-stainless-retry-count": "1"}
        )
        reply = await reply_of(router, job_id)
    events = [line for line in retried.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0].removeprefix("data: "))["id"] == f"chatcmpl-{job_id}"
    assert reply.status == "done" and reply.text == SAID
