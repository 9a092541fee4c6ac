"""Ctrl-C in `tlfif infer` under a real pseudo-terminal, against the router over HTTP
(moto's Cognito), a real WatcherNode and the engine double: the job stops between tokens,
its reply says cancelled with the text so far, and stderr says so. (`tlfif cancel ID` is in
tests/integration/test_cli_router.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.fixtures.cli_pty import PtyRun, run_on_pty
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.moto_server import CognitoPool
from tests.fixtures.redis_servers import RedisServer
from tests.integration.test_cli_live import cli_env, warm_stack

pytestmark = pytest.mark.anyio
__all__ = ["cli_env"]  # the fixture, imported to be used here
# Three hundred words, a token each: 24 s at 80 ms a token. A cancelled run ends within a
# second of the interrupt; the length only outlasts a loaded machine, where the test's own
# thread may wait seconds for its turn before it sends the SIGINT.
LONG = " ".join(f"word{i}" for i in range(300))


def run_interrupted(args: list[str], env: dict[str, str]) -> PtyRun:
    """`tlfif ARGS` on a pty, sent SIGINT (what Ctrl-C sends) once its text has begun (and
    a few tokens more)."""
    return run_on_pty(args, env, interrupt_after_text=0.3)


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
            run_interrupted, ["infer", "--max-tokens", "400", LONG], stack.env
        )
        (reply,) = list(stack.replies.replies.values())
        in_flight = engine.in_flight
    assert run.code == 130, run.err
    assert f"interrupted; job {reply.id} cancelled" in run.err and "Traceback" not in run.err
    assert reply.status == "cancelled" and LONG.startswith(reply.text)
    assert 0 < len(reply.text) < len(LONG)
    assert run.out.strip() and reply.text.startswith(run.out.strip())
    assert in_flight == 0  # the engine's stream was dropped with the job
