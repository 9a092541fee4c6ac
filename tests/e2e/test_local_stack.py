"""The whole local stack with the real model: cold start, reply, idle self-stop, restarts,
and a Ctrl-C that leaves nothing running."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.local_stack import (
    BOOTED,
    IDLE_CAP_SECONDS,
    STOPPED,
    WENT_DOWN,
    StackRun,
    needs_local_extra,
    start_stack,
    submit,
    wait_reply,
    wait_until,
)
from tests.fixtures.process_watch import alive

pytestmark = [pytest.mark.slow, needs_local_extra]

NODE_PROCESSES = {
    "engine": r"-m local\.llama_server",
    "supervisord": r"-m supervisor\.supervisord",
    "watcher": r"-m watcher\b",
}
STACK_PROCESSES = {
    **NODE_PROCESSES,
    "moto": r"-m moto\.server",
    "redis": r"redis-server",
    "router": r"router\.asgi",
    "imds": r"-m local\.imds",
    "scheduled check": r"-m scheduled_check",
}
# From the reply to the self-stop: the idle cap, a poll of the agent, supervisord's stop.
STOP_TIMEOUT_SECONDS = IDLE_CAP_SECONDS + 30


def assert_whole_reply(reply: dict[str, Any]) -> None:
    assert reply["status"] == "done", reply
    assert reply["text"].strip(), reply
    assert reply["finish_reason"] in ("stop", "length"), reply
    assert reply["usage"]["completion_tokens"] > 0, reply


def test_cold_start_gives_a_model_reply_then_the_node_stops_itself(stack: StackRun) -> None:
    wait_until(lambda: stack.instance_state() == "stopped", STOP_TIMEOUT_SECONDS, "a stop")
    mark = len(stack.lines)
    started = time.monotonic()

    done = stack.cli(
        "infer", "--json", "--max-tokens", "16", "--temperature", "0",
        "What is the capital of France?",
    )  # fmt: skip

    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert_whole_reply(reply)
    print(
        f"cold start: reply after {elapsed:.1f} s (queued {reply['queued_ms']} ms, "
        f"generation {reply['latency_ms']} ms, {reply['usage']}): {reply['text']!r}"
    )
    stack.wait_line(BOOTED, after=mark)
    stack.wait_line(STOPPED, after=mark, timeout=STOP_TIMEOUT_SECONDS)
    assert stack.instance_state() == "stopped"
    for name, pattern in NODE_PROCESSES.items():
        pids = stack.watch.pids_like(pattern)
        assert pids, f"no {name} process: {stack.watch.errors[-1:]} {stack.watch.seen}"
        assert alive(pids) == [], f"{name} still running after the self-stop"


def test_two_prompts_at_once_both_get_whole_replies(stack: StackRun) -> None:
    prompts = ["Describe a cat.", "Write one sentence about the sea."]
    with stack.api() as api, ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(lambda prompt: submit(api, prompt, max_tokens=24), prompts))
        replies = list(pool.map(lambda job_id: wait_reply(api, job_id), ids))

    for reply in replies:
        assert_whole_reply(reply)
    # The engine serves one stream at a time; had a second request cut the first short
    # (llama-cpp-python's interrupt_requests), the watcher would have retried it.
    watcher_log = Path(stack.env["TLFIF_LOCAL_RUN_DIR"]) / "watcher.log"
    assert "engine_attempt_failed" not in watcher_log.read_text()


def test_a_prompt_sent_while_the_node_stops_is_answered_after_a_restart(
    stack: StackRun,
) -> None:
    with stack.api() as api:
        assert_whole_reply(wait_reply(api, submit(api, "Hello", max_tokens=4)))
        mark = len(stack.lines)

        # The idle cap runs out: the watcher marks the node stopping and stops it.
        # 5 polls a second: under the router's per-user read limit (10/s).
        wait_until(
            lambda: api.get("/status").json().get("node") == "stopping",
            STOP_TIMEOUT_SECONDS,
            "the node stopping",
            interval=0.2,
        )
        reply = wait_reply(api, submit(api, "Name three colours.", max_tokens=16))

    assert_whole_reply(reply)
    went_down = stack.wait_line(WENT_DOWN, after=mark, timeout=0)
    stack.wait_line(BOOTED, after=went_down, timeout=0)


def test_ctrl_c_leaves_nothing_running(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    try:
        with stack.api() as api:
            submit(api, "Hello", max_tokens=4)
        stack.wait_line(r"watcher running \(pid \d+\)", timeout=60)
    finally:
        status = stack.interrupt()

    assert status == 0, "\n".join(stack.lines[-20:])
    seen = stack.watch.seen
    for name, pattern in STACK_PROCESSES.items():
        assert stack.watch.pids_like(pattern), f"no {name} process was seen"
    assert alive(list(seen)) == [], {pid: seen[pid] for pid in alive(list(seen))}
