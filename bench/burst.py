"""A burst's throughput with one node and with two (issue 19, ADR 0032), on the local stack.

`python -m local` (`make up`'s stack) runs twice as a child, with TLFIF_LOCAL_NODES=1 and
then 2, every node's watcher on one PacedEngineDouble (bench/paced_engine_double.py, its own
process: a fixed token rate, any number of replies at once, as a GPU far from a full batch)
so the nodes, not the engine, bound the rate. All of a stack's nodes are warmed first (the
two-node stack's second one started by the router on a backlog, as in production) and kept
up by a long idle cap. Each round submits BURST jobs at once through POST /infer and times
from the first submit to the last reply; the rounds of the two stacks are reported side by
side with their ratio. On request only (`python -m bench burst`, ~3 min).
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.cold_start import StackProcess
from bench.paced_engine_double import PacedEngineDouble, start_process
from bench.queue_summary import over
from bench.queue_systems import ROOT
from bench.report import conditions, ratio, write_results
from local.__main__ import READY_LINE
from local.environment import child_env

ROUNDS = 3
BURST = 32
MAX_TOKENS = 20
TOKENS_PER_SECOND = 20.0  # 50 ms a token: a reply of MAX_TOKENS takes 1 s
CONCURRENCY = 4  # TLFIF_WATCHER_CONCURRENCY, its default
BOOT_DELAY_SECONDS = 3.0
IDLE_CAP_SECONDS = 120.0  # the nodes stay up through every round
SCALE_OUT_BACKLOG = 2
NODE_COUNTS = (1, 2)
MODEL = "paced-engine-double"
RUN_DIR = ROOT / "bench" / ".work" / "burst"
START_TIMEOUT_SECONDS = 120.0
READY_TIMEOUT_SECONDS = 90.0
REPLY_TIMEOUT_SECONDS = 120.0
# Past the router's per-user limits: one user sends the whole burst.
UNTHROTTLED = {
    "TLFIF_ROUTER_THROTTLE_WRITE_PER_SECOND": "0",
    "TLFIF_ROUTER_THROTTLE_WRITE_PER_MINUTE": "0",
    "TLFIF_ROUTER_THROTTLE_READ_PER_SECOND": "0",
    "TLFIF_ROUTER_THROTTLE_READ_PER_MINUTE": "0",
    "TLFIF_ROUTER_USER_PENDING_CAP": "0",
}


def submit(api: httpx.Client, name: str) -> str:
    body = {"prompt": name, "max_tokens": MAX_TOKENS, "temperature": 0}
    answer = api.post("/infer", json=body)
    if answer.status_code != 202:
        raise RuntimeError(f"POST /infer answered {answer.status_code}: {answer.text}")
    return str(answer.json()["id"])


def wait_reply(api: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        answer = api.get(f"/result/{job_id}", params={"wait": 20})
        if answer.status_code == 200:
            reply: dict[str, Any] = answer.json()
            return reply
        if answer.status_code != 202:
            raise RuntimeError(f"GET /result answered {answer.status_code}: {answer.text}")
    raise RuntimeError(f"no reply to {job_id} within {REPLY_TIMEOUT_SECONDS:g} s")


def ready_nodes(api: httpx.Client) -> int:
    nodes = api.get("/status").json()["nodes"]
    return sum(node["phase"] == "ready" for node in nodes)


def warm(api: httpx.Client, pool: ThreadPoolExecutor, nodes: int) -> None:
    """Every node ready: a first job starts one, a backlog on it the next (ADR 0032)."""
    wait_reply(api, submit(api, "warm"))
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while ready_nodes(api) < nodes:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{nodes} nodes not ready within {READY_TIMEOUT_SECONDS:g} s")
        ids = [submit(api, f"backlog{i}") for i in range(2 * CONCURRENCY + SCALE_OUT_BACKLOG)]
        list(pool.map(lambda job_id: wait_reply(api, job_id), ids))


def one_burst(api: httpx.Client, pool: ThreadPoolExecutor, nodes: int) -> dict[str, Any]:
    if ready_nodes(api) < nodes:
        raise RuntimeError(f"fewer than {nodes} nodes ready before the burst")
    began = time.monotonic()
    ids = list(pool.map(lambda i: submit(api, f"burst{i}"), range(BURST)))
    replies = list(pool.map(lambda job_id: wait_reply(api, job_id), ids))
    took = time.monotonic() - began
    failed = [reply["status"] for reply in replies if reply["status"] != "done"]
    if failed:
        raise RuntimeError(f"{len(failed)} of the burst not done: {failed[:3]}")
    return {"nodes": nodes, "seconds": round(took, 3), "jobs_per_second": round(BURST / took, 3)}


def measure(nodes: int, engine_url: str) -> list[dict[str, Any]]:
    settings = {
        "TLFIF_LOCAL_NODES": str(nodes),
        "TLFIF_LOCAL_ENGINE_URL": engine_url,
        "TLFIF_LOCAL_ENGINE_MODEL": MODEL,
        "TLFIF_LOCAL_BOOT_DELAY_SECONDS": str(BOOT_DELAY_SECONDS),
        "TLFIF_LOCAL_IDLE_CAP_SECONDS": str(IDLE_CAP_SECONDS),
        "TLFIF_SCALE_OUT_BACKLOG": str(SCALE_OUT_BACKLOG),
        "TLFIF_WATCHER_CONCURRENCY": str(CONCURRENCY),
        **UNTHROTTLED,
    }
    run_dir = RUN_DIR / f"nodes-{nodes}"
    run_dir.mkdir(parents=True)
    stack = StackProcess(run_dir, settings)
    found = []
    try:
        stack.wait_line(READY_LINE, 0, START_TIMEOUT_SECONDS)
        with stack.client() as api, ThreadPoolExecutor(BURST) as pool:
            warm(api, pool, nodes)
            for index in range(ROUNDS):
                run = one_burst(api, pool, nodes)
                found.append(run)
                print(
                    f"  {nodes} node(s), round {index + 1}/{ROUNDS}: {BURST} jobs in "
                    f"{run['seconds']:.2f} s, {run['jobs_per_second']:.2f} jobs/s"
                )
    finally:
        stack.stop()
    return found


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    per_count = {
        str(count): over([run["jobs_per_second"] for run in runs if run["nodes"] == count])
        for count in NODE_COUNTS
    }
    one, two = per_count["1"]["median"], per_count["2"]["median"]
    return {"jobs_per_second": per_count, "ratio_2_to_1": ratio(two, one)}


def markdown_table(found: dict[str, Any]) -> str:
    lines = [
        f"| burst of {BURST} jobs, {MAX_TOKENS} tokens at {TOKENS_PER_SECOND:g}/s, "
        f"{CONCURRENCY} per node | jobs/s (median, min to max) |",
        "|---|---|",
    ]
    for count in NODE_COUNTS:
        figure = found["jobs_per_second"][str(count)]
        lines.append(
            f"| {count} node{'s' if count > 1 else ''} | {figure['median']:.2f} "
            f"({figure['min']:.2f} to {figure['max']:.2f}) |"
        )
    lines.append(f"| 2 nodes / 1 node | {found['ratio_2_to_1']:.2f} |")
    return "\n".join(lines)


def run() -> Path:
    started = conditions()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    double, url = start_process(RUN_DIR, TOKENS_PER_SECOND, child_env(), 30)
    runs: list[dict[str, Any]] = []
    try:
        for nodes in NODE_COUNTS:
            runs += measure(nodes, f"{url}/v1")
    finally:
        double.stop()
    found = summarise(runs)
    method = {
        "stack": "python -m local, as `make up` runs it, once with TLFIF_LOCAL_NODES=1 and "
        f"once with 2; TLFIF_LOCAL_BOOT_DELAY_SECONDS={BOOT_DELAY_SECONDS:g}, "
        f"TLFIF_LOCAL_IDLE_CAP_SECONDS={IDLE_CAP_SECONDS:g}, TLFIF_SCALE_OUT_BACKLOG="
        f"{SCALE_OUT_BACKLOG}, TLFIF_WATCHER_CONCURRENCY={CONCURRENCY}, the router's "
        "per-user limits off",
        "engine": f"{PacedEngineDouble.__name__} in its own process, shared by every node: "
        f"{MAX_TOKENS} tokens a reply at {TOKENS_PER_SECOND:g} tokens/s, any number at once",
        "warm": "every node ready (GET /status) before the first round: one job, then "
        "backlogs until the router has started the second node",
        "rounds": f"{ROUNDS} per stack, back to back; each {BURST} POST /infer from "
        f"{BURST} threads, then GET /result?wait=20 for each",
        "timed": "from the first submit to the last reply, by the client",
        "bound": f"{CONCURRENCY} x {TOKENS_PER_SECOND:g} / {MAX_TOKENS} = "
        f"{CONCURRENCY * TOKENS_PER_SECOND / MAX_TOKENS:g} jobs/s per node at most",
    }
    path = write_results("burst", {"method": method, "summary": found, "runs": runs}, started)
    print(markdown_table(found))
    return path
