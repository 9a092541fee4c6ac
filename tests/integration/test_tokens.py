"""A streamed job's text on its way (tlfif/tokens.py): the watcher writes it a batch at a
time, tagged by attempt, on real redis-server and the engine double."""

from __future__ import annotations

import asyncio

import pytest

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.watcher_node import Watcher, watcher
from tlfif import keys, tokens
from tlfif.contracts import InferRequest, Job
from tlfif.redis_conn import connect
from tlfif.tokens import Piece, follow

pytestmark = pytest.mark.anyio

SAID = "one two three four five six seven eight"


async def submit_streamed(w: Watcher, prompt: str) -> Job:
    job = Job.from_request(InferRequest(prompt=prompt), "alice").model_copy(update={"stream": True})
    await w.queue.enqueue(job)
    return job


async def read_all(w: Watcher, job: Job) -> list[Piece]:
    """Every entry until an attempt ends with a finish reason other than "error"."""
    pieces: list[Piece] = []
    after = "0-0"
    while not pieces or pieces[-1].end in (None, "error"):
        async for entry_id, piece in follow(w.redis, job.id, after=after):
            after = entry_id
            pieces.append(piece)
            if piece.end not in (None, "error"):
                break
    return pieces


async def test_a_streamed_job_sends_its_text_in_batches_before_its_reply(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    engine_double.double.token_delay_seconds = 0.04
    async with watcher(redis_server.url, engine_double.url) as w:
        job = await submit_streamed(w, SAID)
        reader = asyncio.create_task(read_all(w, job))
        reply = await w.reply(job)
        pieces = await asyncio.wait_for(reader, 5)
    texts = [p.text for p in pieces if p.end is None]
    assert "".join(texts) == reply.text == SAID
    assert 1 < len(texts) < len(SAID.split())  # batched: more than one, fewer than tokens
    assert pieces[-1].end == "stop"
    assert len({p.attempt for p in pieces}) == 1


async def test_a_generation_that_starts_over_is_a_new_attempt(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url) as w:
        await w.until_ready()
        engine_double.double.cut_next_streams = 1  # the next stream ends with no finish_reason
        job = await submit_streamed(w, SAID)
        reply = await w.reply(job)
        pieces = await asyncio.wait_for(read_all(w, job), 5)
    first, second = pieces[0].attempt, pieces[-1].attempt
    assert first != second
    assert [p.end for p in pieces if p.end] == ["error", "stop"]
    assert "".join(p.text for p in pieces if p.attempt == second) == reply.text


async def test_a_job_not_streamed_writes_no_stream(
    redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    async with watcher(redis_server.url, engine_double.url) as w:
        job = await w.submit(SAID)
        await w.reply(job)
        assert await w.redis.exists(keys.tokens(job.id)) == 0


async def test_an_attempts_first_text_goes_at_once_and_the_rest_in_batches(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a batch period far longer than the test, the first delta still arrives at
    once; the next waits for its batch (or for the attempt's end, which sends it)."""
    monkeypatch.setattr(tokens, "FLUSH_SECONDS", 30.0)
    redis = connect(redis_server.url)
    try:
        writer = tokens.TokenWriter(redis, "job-1", "node/1")
        key = keys.tokens("job-1")
        writer.add("one")
        deadline = asyncio.get_running_loop().time() + 5
        while not await redis.xlen(key):
            assert asyncio.get_running_loop().time() < deadline, "the first text waited"
            await asyncio.sleep(0.01)
        writer.add(" two")
        writer.add(" three")
        await asyncio.sleep(0.2)
        assert await redis.xlen(key) == 1  # batched: waiting for its period
        await writer.end("stop")
        pieces = [piece async for _, piece in tokens.follow(redis, "job-1")]
    finally:
        await redis.aclose()
    assert [(p.text, p.end) for p in pieces] == [("one", None), (" two three", None), ("", "stop")]
