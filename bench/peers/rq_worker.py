"""rq: a SimpleWorker (jobs run in the worker process, no fork per job). rq has no
in-process concurrency, so it runs one job at a time whatever `--concurrency` says. The
submitter waits with Job.latest_result(timeout=...), a blocking XREAD on the result stream.

rq is installed only in its own venv, so mypy sees it as Any (the ignores below).
"""

from __future__ import annotations

import sys

from redis import Redis
from rq import Queue, SimpleWorker  # type: ignore[import-not-found]

from bench.peers import protocol

QUEUE = "bench"
# rq imports the job's function by this name; it counts in protocol's own tally.
FUNCTION = "bench.peers.protocol.noop"


def serve(args: protocol.Args) -> None:
    redis = Redis.from_url(args.redis_url)
    worker = SimpleWorker([Queue(QUEUE, connection=redis)], connection=redis)
    # work() handles SIGTERM itself: a warm shutdown after the job in hand.
    worker.work(logging_level="WARNING")


def enqueue_all(args: protocol.Args) -> None:
    queue = Queue(QUEUE, connection=Redis.from_url(args.redis_url))
    for index in range(args.jobs):
        queue.enqueue(FUNCTION, protocol.payload(index))


def time_one_by_one(args: protocol.Args) -> list[float]:
    queue = Queue(QUEUE, connection=Redis.from_url(args.redis_url))

    def run_one(text: str) -> None:
        job = queue.enqueue(FUNCTION, text)
        protocol.enqueued()
        result = job.latest_result(timeout=protocol.RESULT_TIMEOUT_SECONDS)
        if result is None or result.return_value != len(text):
            raise RuntimeError(f"job {job.id} gave {result!r}")

    return protocol.one_at_a_time(run_one, args.jobs, args.seed)


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=serve,
            enqueue=enqueue_all,
            latency=time_one_by_one,
            distributions=("rq", "redis", "hiredis"),
        )
    )
