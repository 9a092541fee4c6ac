"""saq: a Worker with `concurrency` slots on a Redis queue; the submitter waits on the job
with Job.refresh(until_complete=...), which saq serves by pub/sub, not by polling.

saq subscribes (PSUBSCRIBE) when a first job is awaited and unsubscribes when none is, so
awaiting one job at a time would subscribe per job, and a job that finishes before the
subscription is live goes unnoticed until the wait times out. The submitter keeps one
listener open for its whole run, as a server awaiting jobs all day would have, and
re-reads a job whose wait ran out (MISSED_SECONDS) rather than fail on it.

saq is installed only in its own venv, so mypy sees it as Any (the ignores below).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from saq import Queue, Worker  # type: ignore[import-not-found]

from bench.peers import protocol

QUEUE = "bench"
MISSED_SECONDS = 0.5


async def noop(ctx: Any, *, payload: str) -> int:
    return protocol.noop(payload)


async def serve(args: protocol.Args) -> None:
    queue = Queue.from_url(args.redis_url, name=QUEUE)
    # start() handles SIGTERM itself: it stops taking jobs and returns.
    await Worker(queue, functions=[("noop", noop)], concurrency=args.concurrency).start()
    await queue.disconnect()


async def enqueue_all(args: protocol.Args) -> None:
    queue = Queue.from_url(args.redis_url, name=QUEUE)
    await queue.connect()
    for index in range(args.jobs):
        await queue.enqueue("noop", payload=protocol.payload(index))
    await queue.disconnect()


async def time_one_by_one(args: protocol.Args) -> list[float]:
    queue = Queue.from_url(args.redis_url, name=QUEUE)
    await queue.connect()

    async def run_one(text: str) -> None:
        job = await queue.enqueue("noop", payload=text)
        protocol.enqueued()
        deadline = time.monotonic() + protocol.RESULT_TIMEOUT_SECONDS
        while True:
            try:
                await job.refresh(until_complete=MISSED_SECONDS)
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        if job.result != len(text):
            raise RuntimeError(f"job {job.key} ended {job.status}")

    keep_subscribed = asyncio.create_task(queue.listen(["-"], lambda *_: False, timeout=None))
    samples = await protocol.one_at_a_time_async(run_one, args.jobs, args.seed)
    keep_subscribed.cancel()
    await queue.disconnect()
    return samples


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=lambda args: asyncio.run(serve(args)),
            enqueue=lambda args: asyncio.run(enqueue_all(args)),
            latency=lambda args: asyncio.run(time_one_by_one(args)),
            distributions=("saq", "redis", "hiredis"),
        )
    )
