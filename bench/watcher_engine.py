"""Jobs through the real watcher next to the same requests sent straight to the engine.

The engine is PacedEngineDouble (bench/paced_engine_double.py, a process of its own): each
reply of TOKENS tokens takes TOKENS / TOKENS_PER_SECOND seconds, any number at once. So N
callers at once can get at most N x rate / TOKENS replies a second, and the question is how
much of that the queue and the watcher keep (issue 15: >= 0.95x).

- watcher: the WatcherNode with N slots (its concurrency), assembled as watcher/main.py
  assembles it, with the real EngineClient, in-memory cloud ports (bench/peers/tlfif_worker.py)
  and its JSON log lines at INFO to a file, as on the node; started and ready (its warm-up
  token served) before the clock starts. The clock runs from the first of M jobs enqueued
  (JobQueue.enqueue) to the last one's done signal (JobQueue.wait_done).
- direct: N callers at once of one EngineClient (httpx, streamed, as the watcher's), taking
  the same M requests (the jobs' messages and params) from one list, after one untimed
  request; the clock runs from the first request to the last reply.
Both in this process, on uvloop, on the bench's own redis-server; rounds interleave (N,
way), each round in another order; figures are medians over rounds.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.paced_engine_double import PacedEngineDouble, start_process
from bench.peers.tlfif_worker import InMemoryCloud, watcher_log
from bench.queue_redis import BenchRedis
from bench.queue_summary import over
from bench.queue_systems import ROOT, child_env
from bench.queues import source_digest
from bench.report import conditions, ratio, write_results
from tlfif.contracts import InferRequest, Job
from tlfif.nodes import NodeRegistry
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect
from tlfif.settings import WatcherSettings
from watcher.engine import WARM_UP, WARM_UP_PARAMS, EngineClient
from watcher.node import NodePorts, WatcherNode

CONCURRENCIES = (4, 8)
ROUNDS = 3
JOBS_PER_SLOT = 8
TOKENS = 16
TOKENS_PER_SECOND = 64.0  # a reply takes 0.25 s
GOAL = 0.95
NODE = "bench-node"
SUB = "6d1c9f7e-2b1a-4c55-9e33-7f0a2b6c1d01"
MODEL = "paced-engine-double"
RUN_DIR = ROOT / "bench" / ".work" / "watcher_engine"
WAYS = ("watcher", "direct")
START_TIMEOUT_SECONDS = 30.0
REPLY_TIMEOUT_SECONDS = 60.0


def new_jobs(count: int) -> list[Job]:
    return [
        Job.from_request(InferRequest(prompt=f"bench job {n}", max_tokens=TOKENS), SUB)
        for n in range(count)
    ]


async def wait_ready(registry: NodeRegistry, node: asyncio.Task[Any]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not any(beat.state == "ready" for beat in await registry.heartbeats()):
        if node.done():
            raise RuntimeError(f"the watcher stopped before it was ready: {node.result()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the watcher was not ready within {START_TIMEOUT_SECONDS:g} s")
        await asyncio.sleep(0.05)


async def through_watcher(redis_url: str, engine_url: str, slots: int) -> float:
    """Seconds from the first of the jobs enqueued to the last one answered."""
    settings = WatcherSettings(
        node_id=NODE, concurrency=slots, engine_url=engine_url, engine_model=MODEL
    )
    redis = connect(redis_url)
    claims = connect(redis_url, blocking_seconds=settings.claim_timeout_seconds)
    waits = connect(redis_url, blocking_seconds=REPLY_TIMEOUT_SECONDS)
    engine, cloud = EngineClient.from_settings(settings), InMemoryCloud()
    ports = NodePorts(store=cloud, self_stop=cloud, marker=cloud, metrics=cloud)
    registry = NodeRegistry(redis)
    node = WatcherNode(settings, NODE, JobQueue(redis, blocking=claims), registry, engine, ports)
    submitter = JobQueue(redis, blocking=waits)
    running = asyncio.create_task(node.run())
    try:
        await wait_ready(registry, running)
        jobs = new_jobs(slots * JOBS_PER_SLOT)
        started = time.perf_counter()
        for job in jobs:
            await submitter.enqueue(job)
        for job in jobs:
            if not await submitter.wait_done(job.id, REPLY_TIMEOUT_SECONDS):
                raise RuntimeError(f"no reply to job {job.id}")
        return time.perf_counter() - started
    finally:
        node.request_shutdown()
        await running
        await engine.aclose()
        for client in (redis, claims, waits):
            await client.aclose()


async def direct(engine_url: str, slots: int) -> float:
    """Seconds for `slots` callers at once to get the same requests answered."""
    requests = [(job.messages, job.params) for job in new_jobs(slots * JOBS_PER_SLOT)]
    async with EngineClient(engine_url, MODEL, "none", REPLY_TIMEOUT_SECONDS) as engine:
        await engine.complete(WARM_UP, WARM_UP_PARAMS)

        async def caller() -> None:
            while requests:
                messages, params = requests.pop()
                await engine.complete(messages, params)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(slots)))
        return time.perf_counter() - started


async def one_run(way: str, slots: int, redis: BenchRedis, double_url: str) -> dict[str, Any]:
    redis.flush()
    async with httpx.AsyncClient(base_url=double_url) as control:
        await control.post("/_double/reset")
        if way == "watcher":
            seconds = await through_watcher(redis.url, f"{double_url}/v1", slots)
        else:
            seconds = await direct(f"{double_url}/v1", slots)
        state = (await control.get("/_double/state")).json()
    jobs = slots * JOBS_PER_SLOT
    return {"seconds": round(seconds, 4), "jobs_per_second": round(jobs / seconds, 2),
            "engine_max_in_flight": state["max_in_flight"]}  # fmt: skip


async def measure(redis: BenchRedis, double_url: str, rounds: int) -> dict[str, list[Any]]:
    runs = [(slots, way) for slots in CONCURRENCIES for way in WAYS]
    found: dict[str, list[Any]] = {f"{way}_{slots}": [] for slots, way in runs}
    for index in range(rounds):
        turn = index % len(runs)
        for slots, way in runs[turn:] + runs[:turn]:
            run = await one_run(way, slots, redis, double_url)
            found[f"{way}_{slots}"].append(run)
            held = run["engine_max_in_flight"]
            print(
                f"  round {index + 1}/{rounds} N={slots} {way:7} "
                f"{run['jobs_per_second']:6.2f} jobs/s  (engine held {held} at once)"
            )
    return found


def summarise(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per N: each way's median throughput, the ceiling, and watcher over direct."""
    per_slots: dict[str, Any] = {}
    for slots in CONCURRENCIES:
        entry: dict[str, Any] = {"ceiling_jobs_per_second": slots * TOKENS_PER_SECOND / TOKENS}
        for way in WAYS:
            entry[way] = over([run["jobs_per_second"] for run in found[f"{way}_{slots}"]])
        value = ratio(entry["watcher"]["median"], entry["direct"]["median"])
        entry["watcher_over_direct"] = value
        entry["goal_met"] = value is not None and value >= GOAL
        per_slots[str(slots)] = entry
    return per_slots


def markdown_table(per_slots: dict[str, Any]) -> str:
    heads = ["N at once", "ceiling jobs/s", "direct jobs/s", "through the watcher", "ratio"]
    lines = ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|"]
    for slots, entry in per_slots.items():
        verdict = "" if entry["goal_met"] else " (goal >= 0.95 NOT met)"
        lines.append(
            f"| {slots} | {entry['ceiling_jobs_per_second']:.1f} "
            f"| {entry['direct']['median']:.2f} | {entry['watcher']['median']:.2f} "
            f"| x{entry['watcher_over_direct']}{verdict} |"
        )
    return "\n".join(lines)


def run() -> Path:
    started = conditions()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    double, double_url = start_process(
        RUN_DIR, TOKENS_PER_SECOND, child_env(), START_TIMEOUT_SECONDS
    )
    redis = BenchRedis(RUN_DIR)
    try:
        started["redis_server"] = redis.version()
        started["tlfif_source"] = source_digest()
        with watcher_log(RUN_DIR / "watcher.log"):
            # On uvloop, as watcher/main.py runs the node (the direct callers share it).
            found = uvloop.run(measure(redis, double_url, ROUNDS))
    finally:
        redis.stop()
        double.stop()
    per_slots = summarise(found)
    method = {
        "engine": f"{PacedEngineDouble.__name__} in its own process: {TOKENS} tokens a reply "
        f"at {TOKENS_PER_SECOND:g} tokens/s, any number at once",
        "jobs_per_run": f"{JOBS_PER_SLOT} x N",
        "rounds": ROUNDS,
        "interleaved": "every (N, way) once per round, the order rotated each round",
        "watcher": "WatcherNode (concurrency N), real EngineClient, in-memory cloud ports, "
        "JSON logs at INFO to a file; timed from the first enqueue to the last done signal",
        "direct": "N concurrent callers of one EngineClient, one untimed request first; timed "
        "from the first request to the last reply",
        "redis": 'redis-server started by the bench, save "", appendonly no, flushed per run',
        "event_loop": "uvloop, as watcher/main.py runs the node; both ways share it",
    }
    figures = {"method": method, "concurrency": per_slots, "runs": found}
    path = write_results("watcher_engine", figures, started)
    print(markdown_table(per_slots))
    return path
