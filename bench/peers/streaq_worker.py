"""streaq: a Worker with `concurrency` slots on Redis streams; the submitter polls for the
result every 1 ms, reading the key Worker.result_by_id reads. result_by_id itself opens a
pub/sub subscription per call, which took ~100 ms a call here (streaq 7.2, coredis 6.9)
even with the result already there: it would time coredis's pub/sub, not the queue.

streaq is installed only in its own venv, so mypy sees it as Any (the ignores below).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from streaq import Worker  # type: ignore[import-not-found]

from bench.peers import protocol

QUEUE = "bench"
POLL_SECONDS = 0.001


async def noop(payload: str) -> int:
    return protocol.noop(payload)


def task_on(redis_url: str, concurrency: int = 1) -> Any:
    worker = Worker(redis_url=redis_url, concurrency=concurrency, queue_name=QUEUE)
    return worker.task(noop)


def serve(args: protocol.Args) -> None:
    # run_sync() handles SIGTERM itself.
    task_on(args.redis_url, args.concurrency).worker.run_sync()


async def enqueue_all(args: protocol.Args) -> None:
    task = task_on(args.redis_url)
    async with task.worker:
        for index in range(args.jobs):
            await task.enqueue(protocol.payload(index))


async def time_one_by_one(args: protocol.Args) -> list[float]:
    task = task_on(args.redis_url)

    async def run_one(text: str) -> None:
        worker = task.worker
        queued = await task.enqueue(text)
        protocol.enqueued()
        deadline = time.monotonic() + protocol.RESULT_TIMEOUT_SECONDS
        while not (raw := await worker.redis.get(worker.results_key + queued.id)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no result for task {queued.id}")
            await asyncio.sleep(POLL_SECONDS)
        done = await worker.deserialize(raw)
        if done["r"] != len(text):  # "r": the return value, as result_by_id reads it
            raise RuntimeError(f"task {queued.id} gave {done!r}")

    async with task.worker:
        return await protocol.one_at_a_time_async(run_one, args.jobs, args.seed)


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=serve,
            enqueue=lambda args: asyncio.run(enqueue_all(args)),
            latency=lambda args: asyncio.run(time_one_by_one(args)),
            distributions=("streaq", "coredis", "hiredis"),
        )
    )
