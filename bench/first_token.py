"""A warm node's time to first token and to the whole reply, through the router's /v1 vs
the engine directly (issue 16's closing figure).

`python -m local` (`make up`'s stack, the real small model) runs with a long idle cap and
its engine on a port of our choosing. After one prompt has brought the node up, each round
sends the same streamed chat completion (the official `openai` client, temperature 0, a
fixed token cap) once to the engine's own /v1 and once to the router's /v1, in alternating
order, timing each from the call to the first content chunk and to the stream's end. The
router's path adds the queue, the watcher, the token stream in Redis (batched every
~50 ms) and the S3 reply; the ratio and the difference of the medians say what that costs.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path
from typing import Any

from openai import OpenAI

from bench.cold_start import LOCAL_ENGINE, START_TIMEOUT_SECONDS, StackProcess
from bench.queue_summary import over
from bench.queue_systems import ROOT
from bench.report import conditions, write_results
from local.__main__ import READY_LINE
from local.processes import free_port
from local.settings import LocalSettings

ROUNDS = 5
MAX_TOKENS = 48
PROMPT = "Write two sentences about the sea."
IDLE_CAP_SECONDS = 600.0  # the node stays up for every round
RUN_DIR = ROOT / "bench" / ".work" / "first_token"


def timed_stream(client: OpenAI, model: str) -> dict[str, float]:
    """Seconds from the call to the first content chunk and to the stream's end."""
    started = time.monotonic()
    first: float | None = None
    text = ""
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0,
        stream=True,
    )
    for chunk in stream:
        content = chunk.choices[0].delta.content if chunk.choices else None
        if content:
            first = first if first is not None else time.monotonic() - started
            text += content
    whole = time.monotonic() - started
    if first is None:
        raise RuntimeError("the stream sent no text")
    return {"first_token_seconds": first, "whole_reply_seconds": whole, "chars": len(text)}


def measure(
    engine: OpenAI, router: OpenAI, model: str, rounds: int
) -> dict[str, list[dict[str, float]]]:
    found: dict[str, list[dict[str, float]]] = {"engine": [], "router": []}
    for index in range(rounds):
        order = [("engine", engine), ("router", router)]
        for name, client in order if index % 2 == 0 else order[::-1]:
            found[name].append(timed_stream(client, model))
        print(
            f"  round {index + 1}/{rounds}: first token engine "
            f"{found['engine'][-1]['first_token_seconds'] * 1000:.0f} ms, router "
            f"{found['router'][-1]['first_token_seconds'] * 1000:.0f} ms"
        )
    return found


def summarise(runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        path: {key: over([run[key] for run in path_runs]) for key in path_runs[0]}
        for path, path_runs in runs.items()
    }
    for key in ("first_token_seconds", "whole_reply_seconds"):
        router, engine = figures["router"][key]["median"], figures["engine"][key]["median"]
        figures[key.replace("_seconds", "")] = {
            "router_vs_engine": round(router / engine, 2),
            "router_adds_ms": round((router - engine) * 1000, 1),
        }
    return figures


def markdown_table(found: dict[str, Any]) -> str:
    lines = [
        "| warm node, streamed | engine directly | through the router's /v1 | ratio | added |",
        "|---|---|---|---|---|",
    ]
    for key, label in (("first_token", "first token"), ("whole_reply", "whole reply")):
        engine = found["engine"][f"{key}_seconds"]["median"] * 1000
        router = found["router"][f"{key}_seconds"]["median"] * 1000
        versus = found[key]
        lines.append(
            f"| {label} (median ms) | {engine:.0f} | {router:.0f} | "
            f"x{versus['router_vs_engine']:.2f} | {versus['router_adds_ms']:+.0f} ms |"
        )
    return "\n".join(lines)


def run() -> Path | None:
    if any(importlib.util.find_spec(name) is None for name in LOCAL_ENGINE):
        print("first_token: skipped, the local engine is not installed (pip install -e '.[local]')")
        return None
    started = conditions()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    engine_port = free_port()
    stack = StackProcess(
        RUN_DIR,
        {
            "TLFIF_LOCAL_IDLE_CAP_SECONDS": str(IDLE_CAP_SECONDS),
            "TLFIF_LOCAL_ENGINE_PORT": str(engine_port),
        },
    )
    model = LocalSettings.model_construct().engine_model
    try:
        stack.wait_line(READY_LINE, 0, START_TIMEOUT_SECONDS)
        token = stack.access_token()
        with (
            OpenAI(base_url=f"http://127.0.0.1:{engine_port}/v1", api_key="-") as engine,
            OpenAI(base_url=stack.profile["api_url"] + "/v1", api_key=token) as router,
        ):
            router.with_options(timeout=START_TIMEOUT_SECONDS).chat.completions.create(
                model=model, messages=[{"role": "user", "content": "Hello"}], max_tokens=1
            )  # the cold start, not measured: the node is warm from here on
            runs = measure(engine, router, model, ROUNDS)
    finally:
        stack.stop()
    found = summarise(runs)
    method = {
        "stack": "python -m local, as `make up` runs it, with TLFIF_LOCAL_IDLE_CAP_SECONDS="
        f"{IDLE_CAP_SECONDS:g} and the engine on a known port",
        "rounds": ROUNDS,
        "request": f"a streamed chat completion, {MAX_TOKENS} tokens at most, temperature 0, "
        "by the official openai client; engine and router in alternating order each round",
        "timed": "from the call to the first content chunk, and to the stream's end",
    }
    path = write_results("first_token", {"method": method, "summary": found, "runs": runs}, started)
    print(markdown_table(found))
    return path
