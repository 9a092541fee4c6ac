"""Ctrl-C in `tlfif infer` under a real pseudo-terminal, against the router over HTTP
(moto's Cognito), a real WatcherNode and the engine double: the job stops between tokens,
its reply says cancelled with the text so far, and stderr says so. (`tlfif cancel ID` is in
tests/integration/test_cli_router.py.)"""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.moto_server import CognitoPool
from tests.fixtures.redis_servers import RedisServer
from tests.integration.test_cli_live import ROOT, Chunk, PtyRun, cli_env, read_terminal, warm_stack

pytestmark = pytest.mark.anyio
__all__ = ["cli_env"]  # the fixture, imported to be used here
# Sixty words, a token each: about five seconds at 80 ms a token.
LONG = " ".join(f"word{i}" for i in range(60))


def run_interrupted(args: list[str], env: dict[str, str]) -> PtyRun:
    """`tlfif ARGS` on a pty, sent SIGINT (what Ctrl-C sends) once its text has begun."""
    out_leader, out_follower = pty.openpty()
    err_leader, err_follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tlfif_cli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out_follower,
        stderr=err_follower,
    )
    os.close(out_follower)
    os.close(err_follower)
    out: list[Chunk] = []
    err: list[Chunk] = []
    readers = [
        threading.Thread(target=read_terminal, args=(leader, chunks), daemon=True)
        for leader, chunks in ((out_leader, out), (err_leader, err))
    ]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 20
        while not "".join(chunk.text for chunk in out).strip():
            assert time.monotonic() < deadline and process.poll() is None, "no text came"
            time.sleep(0.02)
        time.sleep(0.3)  # a few tokens more
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for reader in readers:
            reader.join(10)
        os.close(out_leader)
        os.close(err_leader)
    return PtyRun(code, out, "".join(chunk.text for chunk in err))


async def test_ctrl_c_in_infer_cancels_the_job_and_says_so(
    redis_server: RedisServer,
    engine_double: RunningEngineDouble,
    cognito_pool: CognitoPool,
    cli_env: Callable[[str], dict[str, str]],
) -> None:
    engine = engine_double.double
    engine.token_delay_seconds = 0.08
    async with warm_stack(redis_server, engine_double, cognito_pool, cli_env) as stack:
        run = await asyncio.to_thread(
            run_interrupted, ["infer", "--max-tokens", "100", LONG], stack.env
        )
        (reply,) = list(stack.replies.replies.values())
        in_flight = engine.in_flight
    assert run.code == 130, run.err
    assert f"interrupted; job {reply.id} cancelled" in run.err and "Traceback" not in run.err
    assert reply.status == "cancelled" and LONG.startswith(reply.text)
    assert 0 < len(reply.text) < len(LONG)
    assert run.out.strip() and reply.text.startswith(run.out.strip())
    assert in_flight == 0  # the engine's stream was dropped with the job
