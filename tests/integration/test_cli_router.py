"""`tlfif` against the real router: uvicorn on a loopback port, real Redis, moto's Cognito.

The router verifies moto's RS256 access tokens against moto's JWKS; the node and the reply
store are the cloud doubles, and a thread plays the watcher (claim, heartbeat, deliver).
This is where the client's idea of the wire format meets the router's.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from router.app import create_app
from router.deps import RouterDeps
from tests.doubles.api_key_store_double import ApiKeyStoreDouble
from tests.doubles.cloud import MetricsDouble, NodeControlDouble, ReplyStoreDouble
from tests.doubles.webhook_secrets_double import WebhookSecretsDouble
from tests.fixtures.moto_server import CognitoPool
from tests.fixtures.redis_servers import TEST_BLOCK_SECONDS, RedisServer, free_port
from tlfif.auth import TokenVerifier
from tlfif.client.config import StackConfig, save_profile
from tlfif.contracts import Reply, Usage
from tlfif.delivery import Taken, deliver
from tlfif.nodes import NodeRegistry
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect
from tlfif.settings import CommonSettings, RouterSettings
from tlfif_cli import main
from tlfif_cli.errors import ExitCode

NODE = "i-node"


@dataclass
class Stack:
    api_url: str
    redis_url: str
    replies: ReplyStoreDouble
    node: NodeControlDouble


@pytest.fixture
def stack(redis_server: RedisServer, cognito_pool: CognitoPool, aws: str) -> Iterator[Stack]:
    replies, node = ReplyStoreDouble(), NodeControlDouble()
    deps = RouterDeps(
        settings=RouterSettings(
            cognito_issuer=cognito_pool.issuer,
            jwks_url=cognito_pool.jwks_url,
            client_ids=[cognito_pool.client_id],
        ),
        common=CommonSettings(),
        verifier=TokenVerifier(
            cognito_pool.issuer, cognito_pool.jwks_url, [cognito_pool.client_id]
        ),
        metrics=MetricsDouble(),
        replies=replies,
        node_control=lambda: node,
        redis=lambda: connect(redis_server.url),
        blocking_redis=lambda: connect(redis_server.url, blocking_seconds=25),
        api_keys=ApiKeyStoreDouble(),
        webhook_secrets=WebhookSecretsDouble(),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(deps), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Stack(f"http://127.0.0.1:{port}", redis_server.url, replies, node)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def profile(
    stack: Stack,
    cognito_pool: CognitoPool,
    aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> StackConfig:
    for name in [n for n in os.environ if n.startswith("TLFIF_CLI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))
    config = cognito_pool.demo_profile(stack.api_url, aws)
    save_profile(config)
    return config


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def tlfif(
    profile: StackConfig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = main(list(argv))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return run


async def play_node(stack: Stack, boot_seconds: float, generating_seconds: float) -> None:
    """What a cold node does, in brief: boot, claim, say ready, generate, deliver, ack. The
    boot starts once the job is queued (the prompt starts the node), however long the CLI
    took to start and send it."""
    redis = connect(stack.redis_url, blocking_seconds=TEST_BLOCK_SECONDS)
    try:
        queue = JobQueue(redis)
        deadline = time.monotonic() + 30
        while await queue.depth() == 0:
            assert time.monotonic() < deadline, "no job was queued"
            await asyncio.sleep(0.05)
        await asyncio.sleep(boot_seconds)
        job_id = await queue.claim_next(NODE, timeout=10)
        assert job_id is not None
        await NodeRegistry(redis).beat(NODE, "ready", ttl_seconds=30, active=1)
        owner = await queue.owner(job_id)
        assert owner is not None
        await asyncio.sleep(generating_seconds)
        reply = Reply(
            id=job_id,
            status="done",
            text="Rayleigh scattering.",
            model="gemma-3-270m",
            usage=Usage(prompt_tokens=6, completion_tokens=3),
            finish_reason="stop",
            latency_ms=900,
        )
        assert await deliver(queue, stack.replies, owner.reply_key, reply, Taken(NODE, owner.sub))
    finally:
        await redis.aclose()


def test_infer_waits_through_the_phases_for_the_real_reply(
    stack: Stack, tlfif: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short long polls, so the router's 202s show the job running before the reply lands.
    monkeypatch.setenv("TLFIF_CLI_POLL_SECONDS", "1")
    monkeypatch.setenv("TLFIF_CLI_MIN_POLL_INTERVAL_SECONDS", "0")
    node = threading.Thread(target=lambda: asyncio.run(play_node(stack, 1.5, 1.5)))
    node.start()
    run = tlfif("infer", "Why is the sky blue?", "--max-tokens", "8")
    node.join(15)
    assert run.code == ExitCode.OK, run.err
    assert run.out == "Rayleigh scattering.\n"
    assert run.err.index("starting the node") < run.err.index("generating")
    assert stack.node.calls.count("start") >= 1


def test_no_wait_status_result_stop_and_an_unknown_id(
    stack: Stack, tlfif: Callable[..., Run]
) -> None:
    submitted = tlfif("infer", "hello", "--no-wait")
    assert submitted.code == ExitCode.OK
    job_id = submitted.out.strip()

    status = tlfif("status")
    assert status.code == ExitCode.OK
    assert job_id in status.out

    pending = tlfif("result", job_id)
    assert pending.code == ExitCode.OK
    assert pending.out.startswith(f"{job_id}: queued")

    stopped = tlfif("stop")
    assert stopped.code == ExitCode.OK
    assert "manual hold set" in stopped.out
    assert "manual" in tlfif("status").out

    unknown = tlfif("result", "00000000-0000-4000-8000-000000000000")
    assert unknown.code == ExitCode.NOT_FOUND
    assert "no job with this id was submitted by you" in unknown.err


def test_the_router_takes_what_the_cli_lets_through(
    stack: Stack, tlfif: Callable[..., Run]
) -> None:
    """The CLI's local check and the router's agree on the cap: 6144 bytes pass both."""
    assert tlfif("infer", "é" * 3072, "--no-wait").code == ExitCode.OK
    refused = tlfif("infer", "é" * 3072 + "x", "--no-wait")
    assert refused.code == ExitCode.USAGE
    assert "6145 UTF-8 bytes" in refused.err


def test_budget_resume_lifts_the_hold_that_refused_a_prompt(
    stack: Stack, tlfif: Callable[..., Run]
) -> None:
    async def set_budget_hold() -> None:
        redis = connect(stack.redis_url, blocking_seconds=TEST_BLOCK_SECONDS)
        await NodeRegistry(redis).set_hold("budget", 3600)
        await redis.aclose()

    asyncio.run(set_budget_hold())
    refused = tlfif("infer", "hello", "--no-wait")
    assert refused.code == ExitCode.REFUSED
    assert "tlfif budget resume" in refused.err

    lifted = tlfif("budget", "resume")
    assert lifted.code == ExitCode.OK
    assert "budget hold lifted" in lifted.out
    again = tlfif("budget", "resume", "--json")
    assert json.loads(again.out) == {"lifted": False, "hold": None}
    assert tlfif("infer", "hello", "--no-wait").code == ExitCode.OK


def test_wake_starts_the_node_ahead_of_a_prompt(stack: Stack, tlfif: Callable[..., Run]) -> None:
    woken = tlfif("wake", "--idle", "2")
    assert woken.code == ExitCode.OK, woken.err
    assert (
        woken.out
        == "node starting, ready in about 90 s; it stops after 2 idle min if no prompt comes\n"
    )
    assert stack.node.calls.count("start") == 1
    again = json.loads(tlfif("wake", "--json").out)
    assert again == {"node": "starting", "idle": 5, "eta": 90, "started": False, "node_error": None}

    async def set_budget_hold() -> None:
        redis = connect(stack.redis_url, blocking_seconds=TEST_BLOCK_SECONDS)
        await NodeRegistry(redis).set_hold("budget", 3600)
        await redis.aclose()

    asyncio.run(set_budget_hold())
    refused = tlfif("wake")
    assert refused.code == ExitCode.REFUSED
    assert refused.err.count("\n") == 1 and "tlfif budget resume" in refused.err


def test_cancel_answers_a_queued_job_and_says_when_it_was_answered_already(
    stack: Stack, tlfif: Callable[..., Run]
) -> None:
    job_id = tlfif("infer", "never mind", "--no-wait").out.strip()
    cancelled = tlfif("cancel", job_id)
    assert cancelled.code == ExitCode.OK, cancelled.err
    assert cancelled.out.strip() == f"{job_id}: cancelled"
    reply = tlfif("result", job_id)
    assert reply.code == ExitCode.JOB_FAILED and f"job {job_id} cancelled" in reply.err
    again = tlfif("cancel", job_id, "--json")
    assert again.code == ExitCode.JOB_FAILED and again.out == ""
    assert 'not cancelled: the job is answered already: its reply says "cancelled"' in again.err
    assert f"`tlfif result {job_id}` prints it" in again.err
    unknown = tlfif("cancel", "00000000-0000-4000-8000-000000000000")
    assert unknown.code == ExitCode.NOT_FOUND
