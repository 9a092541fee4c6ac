"""`make up`'s engine: checked before "up", restarted when it dies, and a node whose engine
stays down stops itself and stays stopped until the next prompt.

The stack runs as `python -m local` with TLFIF_LOCAL_ENGINE_COMMAND: a command that dies by
a signal, or the engine double as a process that kills itself on a "poison" prompt.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from local.__main__ import EXIT_ENGINE, READY_LINE
from tests.fixtures.engine import engine_double_command
from tests.fixtures.local_stack import StackRun, start_stack, submit, wait_reply, wait_until
from tests.fixtures.process_watch import alive

pytestmark = pytest.mark.slow

SEGFAULTING = f"{sys.executable} -c 'import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'"


def test_make_up_says_in_one_line_how_the_engine_died_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    run = StackRun(tmp_path, {"TLFIF_LOCAL_ENGINE_COMMAND": SEGFAULTING})
    status = run.process.wait(60)
    run.interrupt()
    assert status == EXIT_ENGINE
    assert not any(READY_LINE in line for line in run.lines)
    (failure,) = [line for line in run.lines if "engine check failed" in line]
    assert failure.startswith("local stack: engine check failed: the engine died by SIGSEGV")
    assert "(log: " in failure and "make clean && make up" in failure
    assert not alive(list(run.watch.seen)), "the failed start left processes running"


def test_a_dying_engine_is_restarted_within_its_start_limit_then_the_node_stops(
    tmp_path: Path,
) -> None:
    command = engine_double_command("{port}", token_delay_seconds=0.02, die_on="poison")
    run = start_stack(
        tmp_path,
        {
            "TLFIF_LOCAL_ENGINE_COMMAND": shlex.join(command),
            "TLFIF_LOCAL_ENGINE_MODEL": "engine-double",
            "TLFIF_LOCAL_ENGINE_RESTART_DELAY_SECONDS": "0.2",
            # The boot's start and two restarts: the poison prompt's two crashes use them up.
            "TLFIF_LOCAL_ENGINE_START_LIMIT_BURST": "3",
            "TLFIF_LOCAL_READINESS_TIMEOUT_SECONDS": "3",
            "TLFIF_LOCAL_IDLE_CAP_SECONDS": "60",
            "TLFIF_LOCAL_CHECK_EVERY_SECONDS": "1",
        },
    )
    try:
        with run.api() as api:
            crashed = wait_reply(api, submit(api, "a poison prompt"))
            assert (crashed["status"], crashed["error_code"]) == ("error", "engine_crashed")
            run.wait_line(r"engine died by SIGKILL; restarting it in 0\.2 s")
            assert wait_reply(api, submit(api, "still alive"))["text"] == "still alive"

            # A third crash: the start limit is spent, the engine stays down, and the
            # watcher stops the node after its readiness timeout.
            failed = wait_reply(api, submit(api, "poison once more"))
            assert (failed["status"], failed["error_code"]) == ("error", "engine_failed")
            run.wait_line(r"start limit hit \(3 starts in 300 s\): left down")
            wait_until(lambda: run.instance_state() == "stopped", 30, "the engine-failed stop")
            status = api.get("/status").json()
            assert status["start_error"]["code"] == "engine_failed"
            # The scheduled check runs each second here: it must leave the node stopped.
            time.sleep(3)
            assert run.instance_state() == "stopped"

            # The next prompt starts it again, with a fresh start limit.
            again = wait_reply(api, submit(api, "after the failure"))
            assert again["status"] == "done" and again["text"] == "after the failure"
    finally:
        run.interrupt()
