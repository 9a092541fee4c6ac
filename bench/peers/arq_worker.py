"""arq: a Worker with max_jobs=`concurrency`, polling its queue every 5 ms (its default is
500 ms); the submitter polls for the result every 5 ms too (Job.result(poll_delay=...)),
since arq has no way to wait for one without polling.

arq is installed only in its own venv, so mypy sees it as Any (the ignores below).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from arq import create_pool  # type: ignore[import-not-found]
from arq.connections import RedisSettings  # type: ignore[import-not-found]
from arq.worker import Worker  # type: ignore[import-not-found]

from bench.peers import protocol

POLL_SECONDS = 0.005


async def noop(ctx: Any, payload: str) -> int:
    return protocol.noop(payload)


def serve(args: protocol.Args) -> None:
    # run() handles SIGTERM itself: it cancels the running jobs and closes its pool.
    Worker(
        functions=[noop],
        redis_settings=RedisSettings.from_dsn(args.redis_url),
        max_jobs=args.concurrency,
        poll_delay=POLL_SECONDS,
    ).run()


async def enqueue_all(args: protocol.Args) -> None:
    redis = await create_pool(RedisSettings.from_dsn(args.redis_url))
    for index in range(args.jobs):
        await redis.enqueue_job("noop", protocol.payload(index))
    await redis.aclose()


async def time_one_by_one(args: protocol.Args) -> list[float]:
    redis = await create_pool(RedisSettings.from_dsn(args.redis_url))

    async def run_one(text: str) -> None:
        job = await redis.enqueue_job("noop", text)
        protocol.enqueued()
        result = await job.result(timeout=protocol.RESULT_TIMEOUT_SECONDS, poll_delay=POLL_SECONDS)
        if result != len(text):
            raise RuntimeError(f"job {job.job_id} returned {result!r}")

    samples = await protocol.one_at_a_time_async(run_one, args.jobs, args.seed)
    await redis.aclose()
    return samples


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=serve,
            enqueue=lambda args: asyncio.run(enqueue_all(args)),
            latency=lambda args: asyncio.run(time_one_by_one(args)),
            distributions=("arq", "redis", "hiredis"),
        )
    )
