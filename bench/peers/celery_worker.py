"""celery: a worker with the threads pool (`concurrency` threads), Redis as broker and
result backend, otherwise its defaults; the submitter waits with AsyncResult.get(), which
the Redis backend serves by pub/sub.

celery is installed only in its own venv, so mypy sees it as Any (the ignores below).
"""

from __future__ import annotations

import sys
from typing import Any

from celery import Celery  # type: ignore[import-not-found]

from bench.peers import protocol


def task_on(redis_url: str) -> Any:
    app = Celery("bench", broker=redis_url, backend=redis_url)
    return app.task(protocol.noop, name="noop")


def serve(args: protocol.Args) -> None:
    task = task_on(args.redis_url)
    # worker_main handles SIGTERM itself: a warm shutdown.
    task.app.worker_main(
        ["worker", "--pool=threads", f"--concurrency={args.concurrency}", "--loglevel=WARNING"]
    )


def enqueue_all(args: protocol.Args) -> None:
    task = task_on(args.redis_url)
    for index in range(args.jobs):
        task.delay(protocol.payload(index))


def time_one_by_one(args: protocol.Args) -> list[float]:
    task = task_on(args.redis_url)

    def run_one(text: str) -> None:
        queued = task.delay(text)
        protocol.enqueued()
        result = queued.get(timeout=protocol.RESULT_TIMEOUT_SECONDS)
        if result != len(text):
            raise RuntimeError(f"task returned {result!r}")

    return protocol.one_at_a_time(run_one, args.jobs, args.seed)


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=serve,
            enqueue=enqueue_all,
            latency=time_one_by_one,
            distributions=("celery", "kombu", "redis", "hiredis"),
        )
    )
