"""Issue 17 on `make up`'s stack (`python -m local`: the router under uvicorn, moto, Redis, the
node agent, a watcher under supervisord; the engine double, one token at a time): a wake
starts the stopped node and it idles out by itself; a job cancelled while the node boots never
reaches the engine; a running one stops with the text so far; a cancel racing the reply gives
one answer; Ctrl-C in `tlfif infer` on a pty cancels its job and says so; a /v1 stream left
with no retry is cancelled once the grace is over, one retried within it gets its whole reply.

One stack for the module. Each test waits for the node state it needs, since pytest-xdist may
hand a module's tests to two workers (each then starts a stack of its own). The replies bucket
keeps versions, as the deployed one does (infra/modules/storage): a second write of a reply
would be a second version, so "one answer" is read from S3 itself.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.doubles.engine_double import EngineDouble
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.local_stack import (
    BOOTED,
    StackRun,
    running_stack,
    submit,
    wait_reply,
    wait_until,
)
from tests.integration.test_cli_cancel import LONG as CTRL_C_PROMPT
from tests.integration.test_cli_cancel import run_interrupted

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

MODEL = "engine-double"
BOOT_SECONDS = 2
# Longer than the gap between two tests (a CLI's start), short enough to watch a self-stop.
IDLE_CAP_SECONDS = 5
GRACE_SECONDS = 1
# The idle cap, the agent's poll, supervisord stopping the watcher.
STOP_TIMEOUT_SECONDS = IDLE_CAP_SECONDS + 25
# Forty words, a token each: four seconds at 100 ms a token.
LONG = " ".join(f"word{i}" for i in range(40))
WARM_UP = "Hello"  # what the watcher asks its engine at boot (watcher/engine.py)
# The agent's line once the node's processes are gone; the engine is the test's, not the node's.
STOPPED = re.compile(r"node i-\w+: stopped: watcher stopped")


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, engine_double_server: RunningEngineDouble
) -> Iterator[StackRun]:
    with running_stack(
        tmp_path_factory.mktemp("cancel-stack"),
        {
            "TLFIF_LOCAL_ENGINE_URL": engine_double_server.url,
            "TLFIF_LOCAL_ENGINE_MODEL": MODEL,
            "TLFIF_LOCAL_BOOT_DELAY_SECONDS": str(BOOT_SECONDS),
            "TLFIF_LOCAL_IDLE_CAP_SECONDS": str(IDLE_CAP_SECONDS),
            "TLFIF_ROUTER_V1_DISCONNECT_GRACE_SECONDS": str(GRACE_SECONDS),
            # The race sends two writes a round, faster than a user's 5 a second, 20 a minute.
            "TLFIF_ROUTER_THROTTLE_WRITE_PER_SECOND": "0",
            "TLFIF_ROUTER_THROTTLE_WRITE_PER_MINUTE": "0",
        },
    ) as run:
        yield run


@pytest.fixture(scope="module")
def api(stack: StackRun) -> Iterator[httpx.Client]:
    """The demo user's client on the stack's router, signed in once for the module."""
    with stack.api() as client:
        yield client


@pytest.fixture
def engine(engine_double: RunningEngineDouble) -> EngineDouble:
    """The stack's engine, its knobs and counters reset for each test."""
    return engine_double.double


def phase(api: httpx.Client) -> str:
    return str(api.get("/status").json()["node"])


def wait_stopped(stack: StackRun) -> None:
    wait_until(lambda: stack.instance_state() == "stopped", STOP_TIMEOUT_SECONDS, "a stop")


def cancel(api: httpx.Client, job_id: str) -> httpx.Response:
    return api.post(f"/cancel/{job_id}")


def test_a_wake_starts_the_stopped_node_and_it_idles_out_by_itself(
    stack: StackRun, api: httpx.Client, engine: EngineDouble
) -> None:
    wait_stopped(stack)
    mark = len(stack.lines)
    woke = stack.cli("wake", "--idle", "1", "--json")
    assert woke.returncode == 0, woke.stderr
    assert json.loads(woke.stdout) | {"eta": 0} == {
        "node": "starting", "idle": 1, "eta": 0, "started": True, "node_error": None,
    }  # fmt: skip
    booted = stack.wait_line(BOOTED, after=mark, timeout=30)
    wait_until(lambda: phase(api) == "ready", 30, "the node ready")
    ready_at = time.monotonic()

    stack.wait_line(STOPPED, after=booted, timeout=STOP_TIMEOUT_SECONDS)
    idled = time.monotonic() - ready_at
    print(f"\nwake: the node ready, then stopped by itself {idled:.1f} s later")
    status = api.get("/status").json()
    assert stack.instance_state() == "stopped"
    assert status["hold"] is None and status["queue_depth"] == 0  # its own stop, no prompt
    assert set(engine.prompts) <= {WARM_UP}
    assert idled >= IDLE_CAP_SECONDS - 1  # not before its idle time (the 1: polls' lag)


def test_a_job_cancelled_while_the_node_boots_is_answered_cancelled_and_never_runs(
    stack: StackRun, api: httpx.Client, engine: EngineDouble
) -> None:
    wait_stopped(stack)
    prompt = "never run this prompt"
    accepted = api.post("/infer", json={"prompt": prompt})
    assert accepted.status_code == 202 and accepted.json()["status"] == "starting", accepted.text
    job_id = accepted.json()["id"]

    answer = cancel(api, job_id)
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["status"] == "cancelled" and reply["text"] == ""
    # The node boots and meets the id first in the pending list: the job after it is answered.
    after = wait_reply(api, submit(api, "then this one"), timeout=60)
    again = stack.cli("cancel", job_id)

    assert after["status"] == "done" and after["text"] == "then this one"
    assert engine.requests_for(prompt) == 0
    assert stack.stored_replies(job_id) == [reply]
    assert wait_reply(api, job_id) == reply
    # Cancelling it again is one line: the job was answered, and how.
    assert again.returncode != 0 and "not cancelled" in again.stderr, again.stderr
    assert '"cancelled"' in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr


def test_a_running_job_cancelled_mid_stream_keeps_its_text_so_far(
    stack: StackRun, api: httpx.Client, engine: EngineDouble
) -> None:
    engine.token_delay_seconds = 0.1
    job_id = submit(api, LONG, max_tokens=100)
    wait_until(lambda: engine.requests_for(LONG) == 1, 30, "the engine taking the job")
    time.sleep(0.5)  # a few tokens

    answer = cancel(api, job_id)
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    # The engine's stream was dropped with the job, well before its four seconds.
    wait_until(lambda: engine.in_flight == 0, 2, "the engine's stream dropped", interval=0.02)

    assert reply["status"] == "cancelled"
    assert reply["text"] and LONG.startswith(reply["text"]) and len(reply["text"]) < len(LONG)
    assert stack.stored_replies(job_id) == [reply]
    assert wait_reply(api, job_id) == reply


def test_a_cancel_racing_the_reply_gives_one_answer(
    stack: StackRun, api: httpx.Client, engine: EngineDouble
) -> None:
    """Ten jobs of about 0.3 s each, each cancelled at a moment from 0 to 1.5 times the time a
    reply takes here: whatever the cancel answered is the job's reply, written once."""
    engine.token_delay_seconds = 0.05
    raced = "one two three four five six"
    wait_reply(api, submit(api, raced), timeout=60)  # a cold node boots on this one
    began = time.monotonic()
    wait_reply(api, submit(api, raced))
    reply_seconds = time.monotonic() - began  # on this machine, under its load now
    outcomes: list[str] = []
    for round_ in range(10):
        job_id = submit(api, raced)
        time.sleep(round_ / 6 * reply_seconds)
        answer = cancel(api, job_id)
        final = wait_reply(api, job_id)
        assert stack.stored_replies(job_id) == [final]
        if answer.status_code == 200:
            assert answer.json() == final and final["status"] == "cancelled"
        else:
            assert answer.status_code == 409, answer.text
            assert answer.json()["error"]["code"] == "already_answered"
            assert final["status"] == "done" and '"done"' in answer.json()["error"]["message"]
        outcomes.append(final["status"])
    print(f"\nrace: a reply takes {reply_seconds:.2f} s; by the cancel's moment: {outcomes}")
    assert set(outcomes) == {"cancelled", "done"}  # both sides of the reply were hit


def test_ctrl_c_in_tlfif_infer_cancels_the_job_and_says_so(
    stack: StackRun, engine: EngineDouble
) -> None:
    engine.token_delay_seconds = 0.1
    run = run_interrupted(["infer", "--max-tokens", "400", CTRL_C_PROMPT], stack.env)
    said = re.search(r"interrupted; job (\S+) cancelled", run.err)
    assert run.code == 130 and said, run.err
    assert "Traceback" not in run.err
    (reply,) = stack.stored_replies(said[1])
    assert reply["status"] == "cancelled"
    assert reply["text"] and CTRL_C_PROMPT.startswith(reply["text"])
    assert len(reply["text"]) < len(CTRL_C_PROMPT)
    assert run.out.strip() and reply["text"].startswith(run.out.strip())


def v1_body(said: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": said}], "stream": True}


def retry_header(retry: int) -> dict[str, str]:
    """As the official openai client numbers its tries, from 0."""
    return {"x-stainless-retry-count": str(retry)}


def leave_after_first_text(http: httpx.Client, body: dict[str, Any], retry: int) -> str:
    """Open the stream, read until its first text, hang up; returns the job id."""
    headers = retry_header(retry)
    with http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as sent:
        assert sent.status_code == 200
        for line in sent.iter_lines():
            if line.startswith("data: {"):
                chunk: dict[str, Any] = json.loads(line.removeprefix("data: "))
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    return str(chunk["id"]).removeprefix("chatcmpl-")
    raise AssertionError("the stream ended before any text")


def test_a_v1_stream_left_with_no_retry_is_cancelled_once_the_grace_is_over(
    stack: StackRun, api: httpx.Client, engine: EngineDouble
) -> None:
    engine.token_delay_seconds = 0.1
    said = "left " + LONG
    with httpx.Client(base_url=api.base_url, headers=api.headers, timeout=30) as http:
        job_id = leave_after_first_text(http, v1_body(said), retry=0)
    left_at = time.time()
    reply = wait_reply(api, job_id)

    assert reply["status"] == "cancelled"
    assert reply["text"] and said.startswith(reply["text"]) and len(reply["text"]) < len(said)
    # The job ran on through the grace (a retry could still have come), then stopped.
    assert reply["finished_ms"] / 1000 >= left_at + GRACE_SECONDS - 0.1
    assert stack.stored_replies(job_id) == [reply]


def test_a_v1_stream_left_and_retried_within_the_grace_gets_its_whole_reply(
    stack: StackRun, api: httpx.Client, engine: EngineDouble
) -> None:
    engine.token_delay_seconds = 0.1
    said = "retried " + LONG
    body = v1_body(said)
    with httpx.Client(base_url=api.base_url, headers=api.headers, timeout=30) as http:
        job_id = leave_after_first_text(http, body, retry=0)
        # The client's own retry: the same body, numbered; it resumes the job's stream.
        headers = retry_header(1)
        with http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as again:
            assert again.status_code == 200
            events = [line for line in again.iter_lines() if line.startswith("data: ")]
    reply = wait_reply(api, job_id)

    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert {chunk["id"] for chunk in chunks} == {f"chatcmpl-{job_id}"}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == said  # from its first token: a reader who joins late gets what came so far
    assert reply["status"] == "done" and reply["text"] == said
    assert stack.stored_replies(job_id) == [reply]
    assert engine.requests_for(said) == 1
