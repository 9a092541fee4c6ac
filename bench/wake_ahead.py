"""Wake-ahead (ADR 0029) on the local stack: the time to first token for a user who types
for TYPING_SECONDS before sending, with a BOOT_DELAY_SECONDS boot, with and without the
wake that the window and the chat page send at the first key.

`python -m local` (`make up`'s stack, the real small model) runs as a child with that boot
delay and a short idle cap. Each round starts from a stopped node. At t = 0 the user starts
typing: with wake-ahead, POST /wake then; at t = TYPING_SECONDS the prompt goes out as the
chat page sends it (POST /v1/chat/completions, streamed), and the client times its first
text and its [DONE] from that moment. The two kinds of round take turns.
On request only (`python -m bench wake_ahead`, ~4 min): it waits out real boots.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cold_start import LOCAL_ENGINE, NODE_STOPPED, StackProcess
from bench.queue_summary import over
from bench.queue_systems import ROOT
from bench.report import conditions, write_results
from local.__main__ import READY_LINE

ROUNDS = 2  # of each kind
BOOT_DELAY_SECONDS = 30.0
TYPING_SECONDS = 20.0
IDLE_CAP_SECONDS = 3.0
MAX_TOKENS = 8
PROMPT = "What is the capital of France?"
RUN_DIR = ROOT / "bench" / ".work" / "wake_ahead"
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 90.0


def first_text(api: httpx.Client, model: str) -> tuple[float, float]:
    """Seconds from sending the prompt to its first text, and to the stream's end."""
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS, "temperature": 0, "stream": True}  # fmt: skip
    sent = time.monotonic()
    first: float | None = None
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"POST /v1/chat/completions answered {response.status_code}")
        for line in response.iter_lines():
            if line == "data: [DONE]":
                break
            if first is None and text_of(line):
                first = time.monotonic() - sent
    if first is None:
        raise RuntimeError("the stream ended without text")
    return first, time.monotonic() - sent


def text_of(line: str) -> str:
    """The text an SSE line of a chat completion stream carries ("" for any other line)."""
    if not line.startswith("data: {"):
        return ""
    choices = json.loads(line.removeprefix("data: ")).get("choices") or [{}]
    return str(choices[0].get("delta", {}).get("content") or "")


def one_round(api: httpx.Client, model: str, *, wake: bool) -> dict[str, Any]:
    typing_started = time.monotonic()
    woken = None
    if wake:
        answer = api.post("/wake", json={"idle": 1})
        if answer.status_code != 200:
            raise RuntimeError(f"POST /wake answered {answer.status_code}: {answer.text}")
        woken = answer.json()["node"]
    time.sleep(max(0.0, TYPING_SECONDS - (time.monotonic() - typing_started)))
    first, whole = first_text(api, model)
    return {
        "wake_ahead": wake,
        "woken_node": woken,
        "first_text_seconds": round(first, 3),
        "whole_reply_seconds": round(whole, 3),
    }


def measure(stack: StackProcess) -> list[dict[str, Any]]:
    found = []
    mark = stack.wait_line(READY_LINE, 0, START_TIMEOUT_SECONDS)
    with stack.client() as api:
        model = api.get("/v1/models").json()["data"][0]["id"]
        for index in range(2 * ROUNDS):
            if index:  # the node stops itself once idle; the first round finds it stopped
                mark = stack.wait_line(NODE_STOPPED, mark, STOP_TIMEOUT_SECONDS) + 1
            run = one_round(api, model, wake=index % 2 == 1)
            found.append(run)
            kind = "with" if run["wake_ahead"] else "without"
            print(
                f"  round {index + 1}/{2 * ROUNDS} ({kind} wake-ahead): first text "
                f"{run['first_text_seconds']:.2f} s after sending"
            )
    return found


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind = {
        kind: [run["first_text_seconds"] for run in runs if run["wake_ahead"] == wake]
        for kind, wake in (("without", False), ("with", True))
    }
    medians = {kind: over(values) for kind, values in by_kind.items() if values}
    saved = medians["without"]["median"] - medians["with"]["median"]
    return {"first_text_seconds": medians, "saved_seconds": round(saved, 3)}


def markdown_table(found: dict[str, Any]) -> str:
    lines = [
        f"| {TYPING_SECONDS:g} s of typing, {BOOT_DELAY_SECONDS:g} s boot | first text after "
        "sending, s (median, min to max) |",
        "|---|---|",
    ]
    for kind in ("without", "with"):
        figure = found["first_text_seconds"][kind]
        lines.append(
            f"| {kind} wake-ahead | {figure['median']:.2f} ({figure['min']:.2f} to "
            f"{figure['max']:.2f}) |"
        )
    lines.append(f"| saved | {found['saved_seconds']:.2f} |")
    return "\n".join(lines)


def run() -> Path | None:
    if any(importlib.util.find_spec(name) is None for name in LOCAL_ENGINE):
        print("wake_ahead: skipped, the local engine is not installed (pip install -e '.[local]')")
        return None
    started = conditions()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    settings = {
        "TLFIF_LOCAL_BOOT_DELAY_SECONDS": str(BOOT_DELAY_SECONDS),
        "TLFIF_LOCAL_IDLE_CAP_SECONDS": str(IDLE_CAP_SECONDS),
    }
    stack = StackProcess(RUN_DIR, settings)
    try:
        runs = measure(stack)
    finally:
        stack.stop()
    found = summarise(runs)
    method = {
        "stack": "python -m local, as `make up` runs it, with TLFIF_LOCAL_BOOT_DELAY_SECONDS="
        f"{BOOT_DELAY_SECONDS:g} and TLFIF_LOCAL_IDLE_CAP_SECONDS={IDLE_CAP_SECONDS:g}",
        "rounds": f"{ROUNDS} of each kind, taking turns, each from a stopped node",
        "user": f"types for {TYPING_SECONDS:g} s, then sends {PROMPT!r} ({MAX_TOKENS} tokens "
        "at most, temperature 0) as the chat page does: POST /v1/chat/completions, streamed",
        "wake_ahead": "POST /wake {idle: 1} when the typing starts (the window's first key, "
        "the chat page's focus)",
        "first_text": "from sending the prompt to the stream's first text, timed by the client",
    }
    path = write_results("wake_ahead", {"method": method, "summary": found, "runs": runs}, started)
    print(markdown_table(found))
    return path
