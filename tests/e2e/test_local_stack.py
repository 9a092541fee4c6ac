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
from tlfif_cli.errors import ExitCode

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
    assert_usage_counted(stack, reply["id"])


def assert_usage_counted(stack: StackRun, job_id: str) -> None:
    """ADR 0034: the job's line carries its node-seconds (boot included: it started the
    node), the self-stop's audit event the idle tail, and GET /usage counts both."""
    watcher_log = Path(stack.env["TLFIF_LOCAL_RUN_DIR"]) / "watcher.log"
    events = [
        json.loads(line) for line in watcher_log.read_text().splitlines() if line.startswith("{")
    ]
    (answered,) = [e for e in events if e.get("event") == "job_answered" and e["jobId"] == job_id]
    assert answered["nodeSeconds"] > answered["bootSeconds"] > 0 and answered["costEur"] > 0
    stops = [e for e in events if e.get("action") == "self_stop" and e["lastJobId"] == job_id]
    assert stops and stops[-1]["idleSeconds"] > 0, stops
    listed = stack.cli("usage", "--json")
    assert listed.returncode == 0, listed.stderr
    users = json.loads(listed.stdout)["users"]
    assert sum(user["prompts"] for user in users) >= 1
    counted = sum(user["node_seconds"] for user in users)
    assert counted >= answered["nodeSeconds"] + stops[-1]["idleSeconds"] - 0.2


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


def test_smoke_measures_a_cold_start_and_a_stop_and_fails_past_a_limit_with_a_key(
    stack: StackRun,
) -> None:
    """`tlfif smoke` as the deploy pipeline runs it, with an owner API key in
    TLFIF_CLI_API_KEY: cold (it stops the node first) within the seed's limits, then warm
    with a first-token limit no stack meets."""
    with stack.api() as api:
        made = api.post("/keys", json={"name": "smoke"})
        assert made.status_code == 201, made.text
    stack.env["TLFIF_CLI_API_KEY"] = made.json()["secret"]
    try:
        cold = stack.cli("smoke", "--stop-first", "--json", timeout=240)
        assert cold.returncode == 0, cold.stdout + cold.stderr
        found = json.loads(cold.stdout)
        print(f"smoke, cold: {found}")
        assert found["ok"] is True and found["failures"] == [] and found["cold"] is True
        assert found["profile"] == "local" and found["started_at"].endswith("Z")
        assert found["ping_ms"] > 0 and found["queue_health"]["ok"] is True
        phases = found["phases"]
        order = ["accepted", "node_running", "engine_ready", "first_token", "reply"]
        times = [phases[name] for name in order]
        assert None not in times and times == sorted(times), phases  # the router streams
        assert found["limits"] == {
            "first_token": 90,
            "stop": 10,
            "first_token_measured_on": "first_token",
        }
        assert phases["first_token"] <= 90
        assert found["reply"]["status"] == "done" and found["reply"]["completion_tokens"] > 0
        assert 0 <= found["stop"]["accepted"] <= found["stop"]["stopping"] <= 10

        with stack.api() as api:
            # The owner's prompt lifts the smoke's stop hold; while it runs, the 4 s idle cap
            # cannot stop the node, so the smoke's prompt finds it warm.
            busy = submit(api, "Count from one to twenty.", max_tokens=24)

            def running() -> bool:
                return api.get(f"/result/{busy}").json().get("status") in ("running", "done")

            wait_until(running, 120, "the owner's prompt running")
            warm = stack.cli(
                "smoke", "--first-token-limit", "0.001", "--no-stop", "--max-tokens", "4",
                "--json",
            )  # fmt: skip
            assert_whole_reply(wait_reply(api, busy))
    finally:
        del stack.env["TLFIF_CLI_API_KEY"]
    assert warm.returncode == ExitCode.SMOKE_FAILED, warm.stdout + warm.stderr
    found = json.loads(warm.stdout)
    print(f"smoke, warm: {found}")
    assert found["ok"] is False and found["cold"] is False
    assert [f.split(":")[0] for f in found["failures"]] == ["first-token limit passed"]
    assert found["phases"]["first_token"] is not None and found["reply"]["status"] == "done"
    assert found["stop"] == {"accepted": None, "stopping": None}
