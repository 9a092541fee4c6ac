"""The local model's speed through the real llama.cpp server: 1 thread next to 2.

The server is started as the local stack starts it (local.llama_server.engine_args) on a
free port, once per (round, thread count); rounds alternate which count goes first, and
each server answers one untimed request before the timed ones. Requests go through the
watcher's own EngineClient (streamed chat completions), with a small max_tokens.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import conditions, ratio, spread, write_results
from local.llama_server import CHAT_FORMAT, engine_args, model_path
from local.processes import ChildProcess, StartFailed, free_port
from tlfif.contracts import Message, Params
from watcher.engine import Completion, EngineClient

THREAD_COUNTS = (1, 2)
ROUNDS = 3
MAX_TOKENS = 48
CONTEXT_TOKENS = 2048  # the local stack's default (local/settings.py)
MODEL_ALIAS = "gemma-3-270m"
START_TIMEOUT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 60.0
# Prompts this model answers at length on one line (a blank line stops it), at temperature
# 0, the same sequence for every server. Each differs from the one before: llama.cpp's
# server reuses the cached prefix of an identical prompt, which would hide prompt reading
# from the time to first token (the shared Alpaca preamble stays cached, as in production).
WARM_UP_PROMPT = "Name twenty cities, separated by commas."
PROMPTS = [
    f"Name twenty {things}, separated by commas."
    for things in ("animals", "countries", "colours", "fruits")
]
REQUESTS_PER_SERVER = len(PROMPTS)
PARAMS = Params(max_tokens=MAX_TOKENS, temperature=0.0)


def ask(prompt: str) -> list[Message]:
    return [Message(role="user", content=prompt)]


def decode_tokens_per_second(done: Completion) -> float | None:
    """Tokens after the first over the time after the first: generation alone."""
    if done.first_token_ms is None or done.usage.completion_tokens < 2:
        return None
    seconds = (done.duration_ms - done.first_token_ms) / 1000
    return (done.usage.completion_tokens - 1) / seconds if seconds > 0 else None


async def wait_ready(client: EngineClient, server: ChildProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not await client.ready():
        if not server.running():
            raise StartFailed(f"engine exited ({server.log_path}):\n{server.tail()}")
        if time.monotonic() > deadline:
            raise StartFailed(f"engine not ready within {START_TIMEOUT_SECONDS:.0f} s")
        await asyncio.sleep(0.2)


async def serve_and_ask(model: Path, threads: int, log_dir: Path) -> list[Completion]:
    port = free_port()
    args = engine_args(model, MODEL_ALIAS, port, CHAT_FORMAT, CONTEXT_TOKENS, threads)
    server = ChildProcess(f"engine-{threads}t", args, os.environ, log_dir)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        async with EngineClient(url, MODEL_ALIAS, "none", REQUEST_TIMEOUT_SECONDS) as client:
            await wait_ready(client, server)
            await client.complete(ask(WARM_UP_PROMPT), PARAMS)  # untimed: first-request warm-up
            return [await client.complete(ask(prompt), PARAMS) for prompt in PROMPTS]
    finally:
        server.stop()


async def measure(model: Path, log_dir: Path) -> dict[int, list[Completion]]:
    done: dict[int, list[Completion]] = {threads: [] for threads in THREAD_COUNTS}
    for round_no in range(ROUNDS):
        order = THREAD_COUNTS if round_no % 2 == 0 else tuple(reversed(THREAD_COUNTS))
        for threads in order:
            done[threads] += await serve_and_ask(model, threads, log_dir)
    return done


def summarise(completions: list[Completion]) -> dict[str, Any]:
    decode = [rate for rate in map(decode_tokens_per_second, completions) if rate is not None]
    overall = [c.usage.completion_tokens / (c.duration_ms / 1000) for c in completions]
    first = [float(c.first_token_ms) for c in completions if c.first_token_ms is not None]
    return {
        "completion_tokens": [c.usage.completion_tokens for c in completions],
        "finish_reasons": sorted({c.finish_reason for c in completions}),
        "decode_tokens_per_second": spread(decode),
        "completion_tokens_per_second": spread(overall),
        "time_to_first_token_ms": spread(first),
    }


def run() -> Path | None:
    if importlib.util.find_spec("llama_cpp") is None:
        print("engine: skipped, llama_cpp is not importable (pip install -e '.[local]')")
        return None
    started = conditions()
    model = model_path()
    with tempfile.TemporaryDirectory(prefix="tlfif-bench-engine-") as log_dir:
        done = asyncio.run(measure(model, Path(log_dir)))
    per_threads = {f"{threads}_thread": summarise(done[threads]) for threads in THREAD_COUNTS}
    one, two = per_threads["1_thread"], per_threads["2_thread"]
    key = "completion_tokens_per_second"
    ratios = {
        "decode_tokens_per_second_2_over_1": ratio(
            two["decode_tokens_per_second"]["median"], one["decode_tokens_per_second"]["median"]
        ),
        "completion_tokens_per_second_2_over_1": ratio(two[key]["median"], one[key]["median"]),
        "time_to_first_token_2_over_1": ratio(
            two["time_to_first_token_ms"]["median"], one["time_to_first_token_ms"]["median"]
        ),
    }
    method = {
        "server": "python -m local.llama_server with engine_args (the local stack's flags)",
        "model": model.name,
        "context_tokens": CONTEXT_TOKENS,
        "rounds": ROUNDS,
        "interleaved": "a fresh server per (round, threads); the order alternates each round",
        "requests_per_server": REQUESTS_PER_SERVER,
        "warm_up": "one untimed request per server",
        "max_tokens": MAX_TOKENS,
        "temperature": 0.0,
        "client": "watcher.engine.EngineClient (streamed; tokens = content deltas counted)",
        "prompts": PROMPTS,
    }
    figures = {"method": method, "threads": per_threads, "ratios": ratios}
    path = write_results("engine", figures, started)
    print(f"engine ({ROUNDS} interleaved rounds x {REQUESTS_PER_SERVER} requests, medians):")
    for label, entry in per_threads.items():
        print(
            f"  {label:9} decode {entry['decode_tokens_per_second']['median']:6.1f} tok/s"
            f"  overall {entry[key]['median']:6.1f} tok/s"
            f"  first token {entry['time_to_first_token_ms']['median']:6.0f} ms"
        )
    print(
        f"  2/1 threads: decode x{ratios['decode_tokens_per_second_2_over_1']}"
        f"  overall x{ratios['completion_tokens_per_second_2_over_1']}"
        f"  first token x{ratios['time_to_first_token_2_over_1']}"
    )
    return path
