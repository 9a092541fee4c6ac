"""dramatiq: a Worker with `concurrency` threads on the Redis broker, with its default
middleware and the Results middleware on a Redis backend; the submitter waits with
Message.get_result(block=True), a BRPOPLPUSH on the result key.

dramatiq is installed only in its own venv, so mypy sees it as Any (the ignores below).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import dramatiq  # type: ignore[import-not-found]
from dramatiq.brokers.redis import RedisBroker  # type: ignore[import-not-found]
from dramatiq.results import Results  # type: ignore[import-not-found]
from dramatiq.results.backends import RedisBackend  # type: ignore[import-not-found]

from bench.peers import protocol


def actor_on(redis_url: str) -> Any:
    broker = RedisBroker(url=redis_url)
    broker.add_middleware(Results(backend=RedisBackend(url=redis_url)))
    dramatiq.set_broker(broker)
    return dramatiq.actor(protocol.noop, actor_name="noop", store_results=True, max_retries=0)


def serve(args: protocol.Args) -> None:
    actor = actor_on(args.redis_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    worker = dramatiq.Worker(actor.broker, worker_threads=args.concurrency)
    worker.start()
    stop.wait()
    worker.stop()
    actor.broker.close()


def enqueue_all(args: protocol.Args) -> None:
    actor = actor_on(args.redis_url)
    for index in range(args.jobs):
        actor.send(protocol.payload(index))
    actor.broker.close()


def time_one_by_one(args: protocol.Args) -> list[float]:
    actor = actor_on(args.redis_url)

    def run_one(text: str) -> None:
        message = actor.send(text)
        protocol.enqueued()
        timeout_ms = protocol.RESULT_TIMEOUT_SECONDS * 1000
        result = message.get_result(block=True, timeout=timeout_ms)
        if result != len(text):
            raise RuntimeError(f"message {message.message_id} returned {result!r}")

    samples = protocol.one_at_a_time(run_one, args.jobs, args.seed)
    actor.broker.close()
    return samples


if __name__ == "__main__":
    sys.exit(
        protocol.main(
            work=serve,
            enqueue=enqueue_all,
            latency=time_one_by_one,
            distributions=("dramatiq", "redis", "hiredis"),
        )
    )
