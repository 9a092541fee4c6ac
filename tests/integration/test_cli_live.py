"""`tlfif infer` under a real pseudo-terminal: the reply's text on stdout as it is generated.

The CLI runs as its own process with its stdout on a pty (what a terminal gives it) and its
stderr in a file; the test reads the pty as the bytes come and notes when each came. The
router runs under uvicorn on a loopback port, verifying moto's Cognito tokens (the demo
user signs in by itself), and a real WatcherNode answers through the engine double with a
delay per token; or, for a generation that starts over, the test plays the node and writes
the token stream two attempts make.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.doubles.cloud import ReplyStoreDouble
from tests.fixtures.cli_pty import PtyRun, run_on_pty
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.moto_server import CognitoPool
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_http import router_over_http
from tests.fixtures.watcher_node import watcher
from tlfif import keys
from tlfif.client.config import save_profile
from tlfif.contracts import Reply
from tlfif.delivery import Taken, deliver
from tlfif.queue import JobQueue
from tlfif.redis_conn import RedisClient, connect
from tlfif_cli.live import RESTARTED

pytestmark = pytest.mark.anyio
# Fourteen words: the engine double says them back, one token each.
PROMPT = "the sea is wide and deep and the waves come in one after another"
TOKEN_DELAY_SECONDS = 0.08


@dataclass
class CliStack:
    api_url: str
    redis_url: str
    replies: ReplyStoreDouble
    env: dict[str, str]

    async def tlfif(self, *args: str) -> PtyRun:
        return await asyncio.to_thread(run_on_pty, list(args), self.env)


@pytest.fixture
def cli_env(
    cognito_pool: CognitoPool, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], dict[str, str]]:
    """The environment of a CLI whose `local` profile is this pool and the given router."""
    for name in [n for n in os.environ if n.startswith("TLFIF_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))

    def env_for(api_url: str) -> dict[str, str]:
        save_profile(cognito_pool.demo_profile(api_url, aws))
        return {**os.environ, "TERM": "xterm", "COLUMNS": "120"}

    return env_for


async def until_following(redis: RedisClient, timeout: float = 20.0) -> None:
    """Until the router blocks on a job's token stream (XREAD) for the CLI."""
    deadline = time.monotonic() + timeout
    while "cmd=xread" not in str(await redis.execute_command("CLIENT", "LIST")):
        assert time.monotonic() < deadline, "the CLI never followed the job's events"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def warm_stack(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    cognito_pool: CognitoPool,
    cli_env: Callable[[str], dict[str, str]],
) -> AsyncIterator[CliStack]:
    """A ready node on the engine double, and the router over HTTP reading its replies."""
    async with watcher(redis_server.url, engine_double.url) as node:
        await node.until_ready()
        async with router_over_http(redis_server.url, cognito_pool, node.store) as url:
            yield CliStack(url, redis_server.url, node.store, cli_env(url))


async def test_the_text_prints_on_the_terminal_as_it_is_generated(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    cognito_pool: CognitoPool,
    cli_env: Callable[[str], dict[str, str]],
) -> None:
    engine_double.double.token_delay_seconds = TOKEN_DELAY_SECONDS
    async with warm_stack(redis_server, engine_double, cognito_pool, cli_env) as stack:
        run = await stack.tlfif("infer", PROMPT)
    assert run.code == 0, run.err
    assert run.out == PROMPT + "\n"  # the reply's text, once, and nothing else on stdout
    words = [chunk for chunk in run.chunks if chunk.text.strip()]
    # Fourteen tokens 80 ms apart, sent on in 50 ms batches: spread out, not at once.
    assert len(words) >= 5
    assert words[-1].at - words[0].at >= 0.5
    assert "finish: stop" in run.err and "Traceback" not in run.err


async def test_whole_prints_the_text_at_once_when_the_reply_is_there(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    cognito_pool: CognitoPool,
    cli_env: Callable[[str], dict[str, str]],
) -> None:
    engine_double.double.token_delay_seconds = 0.02
    async with warm_stack(redis_server, engine_double, cognito_pool, cli_env) as stack:
        run = await stack.tlfif("infer", "--whole", PROMPT)
    assert run.code == 0, run.err
    assert run.out == PROMPT + "\n"
    assert len([chunk for chunk in run.chunks if chunk.text.strip()]) == 1
    assert "finish: stop" in run.err


async def test_a_generation_that_starts_over_is_not_spliced_into_the_first(
    redis_server: RedisServer,
    cognito_pool: CognitoPool,
    cli_env: Callable[[str], dict[str, str]],
) -> None:
    """Two attempts as two nodes would write them: the first dies after "one two", the
    second says "uno dos tres"; the terminal shows the second from its start, and stderr
    says the first was void."""
    replies = ReplyStoreDouble()
    redis = connect(redis_server.url, blocking_seconds=10)
    try:
        async with router_over_http(redis_server.url, cognito_pool, replies) as url:
            stack = CliStack(url, redis_server.url, replies, cli_env(url))
            running = asyncio.create_task(stack.tlfif("infer", "count to three"))
            queue = JobQueue(redis)
            job_id = await queue.claim_next("i-node", timeout=10)
            assert job_id is not None
            owner = await queue.owner(job_id)
            assert owner is not None
            stream = keys.tokens(job_id)
            await until_following(redis)
            for attempt, text in [("node-a/1", "one "), ("node-a/1", "two"), ("node-b/1", "uno")]:
                await redis.xadd(stream, {"a": attempt, "t": text})
                await asyncio.sleep(0.3)
            await redis.xadd(stream, {"a": "node-b/1", "t": " dos tres"})
            await redis.xadd(stream, {"a": "node-b/1", "end": "stop"})
            reply = Reply(id=job_id, status="done", text="uno dos tres", finish_reason="stop")
            await deliver(queue, replies, owner.reply_key, reply, Taken("i-node", owner.sub))
            run = await asyncio.wait_for(running, 30)
    finally:
        await redis.aclose()
    assert run.code == 0, run.err
    assert run.out == "one two\nuno dos tres\n"
    assert RESTARTED in run.err
    assert "differs" not in run.err
