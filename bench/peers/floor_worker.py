"""The floor: the least a Redis job queue can do with redis-py's asyncio client. LPUSH the
job, BLMOVE it into an in-flight list, one result write (RPUSH, which the submitter's
BLPOP waits on). No retries, no expiry, no acks: what any real queue adds costs more."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid

from redis.asyncio import Redis

from bench.peers import protocol

PENDING = "floor:pending"
INFLIGHT = "floor:inflight"


def result_key(job_id: str) -> str:
    return f"floor:result:{job_id}"


def job_body(text: str) -> tuple[str, str]:
    job_id = str(uuid.uuid4())
    return job_id, json.dumps({"id": job_id, "payload": text})


async def slot(redis: Redis) -> None:
    while True:
        body = await redis.blmove(PENDING, INFLIGHT, 0, "RIGHT", "LEFT")
        if body is None:  # a timeout of 0 waits for ever; the stub cannot know
            continue
        job = json.loads(body)
        result = protocol.noop(job["payload"])
        await redis.rpush(result_key(job["id"]), str(result))


async def serve(args: protocol.Args) -> None:
    redis = Redis.from_url(args.redis_url, decode_responses=True)
    slots = [asyncio.create_task(slot(redis)) for _ in range(args.concurrency)]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for task in slots:
        task.cancel()
    await asyncio.gather(*slots, return_exceptions=True)
    await redis.aclose()


async def enqueue_all(args: protocol.Args) -> None:
    redis = Redis.from_url(args.redis_url, decode_responses=True)
    for index in range(args.jobs):
        await redis.lpush(PENDING, job_body(protocol.payload(index))[1])
    await redis.aclose()


async def time_one_by_one(args: protocol.Args) -> list[float]:
    redis = Redis.from_url(args.redis_url, decode_responses=True)

    async def run_one(text: str) -> None:
        job_id, body = job_body(text)
        await redis.lpush(PENDING, body)
        protocol.enqueued()
        if await redis.blpop([result_key(job_id)], protocol.RESULT_TIMEOUT_SECONDS) is None:
            raise TimeoutError(f"no result for {job_id}")

    samples = await protocol.one_at_a_time_async(run_one, args.jobs, args.seed)
    await redis.aclose()
    return samples


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=lambda args: asyncio.run(serve(args)),
            enqueue=lambda args: asyncio.run(enqueue_all(args)),
            latency=lambda args: asyncio.run(time_one_by_one(args)),
            distributions=("redis", "hiredis"),
        )
    )
