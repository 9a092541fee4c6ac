"""TL-FIF: the real WatcherNode, assembled as watcher/main.py assembles it, with a no-op
engine and in-memory cloud ports (the reply store does not block, so no thread hop: the S3
adapter's is its own); jobs go in through JobQueue.enqueue and the submitter
waits with JobQueue.wait_done, as the router and the CLI do.

Public APIs only (the node, its settings and ports, the queue, the contracts): the queue's
internals change under this harness, and the bench measures whatever they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench.peers import protocol
from tlfif.contracts import InferRequest, Job, Message, Params, Reply, Usage
from tlfif.errors import ReplyExists
from tlfif.nodes import NodeRegistry
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect
from tlfif.runtime.logs import JsonFormatter
from tlfif.settings import WatcherSettings
from watcher.engine import Completion, EngineClient
from watcher.node import NodePorts, WatcherNode

NODE = "bench-node"
SUB = "bench-user"


class NoOpEngine(EngineClient):
    """An engine that answers every job at once with an empty completion, in-process:
    the watcher's path around the engine is measured, not an engine."""

    def __init__(self) -> None:
        super().__init__("http://no-engine.invalid/v1", "no-op", "none", timeout_seconds=10.0)

    async def complete(
        self,
        messages: list[Message],
        params: Params,
        *,
        timeout: float | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        protocol.noop(messages[-1].content)
        return Completion(
            text="",
            finish_reason="stop",
            model=self.model,
            usage=Usage(),
            usage_source="engine",
            prompt_tokens_known=True,
            first_token_ms=0,
            duration_ms=0,
        )

    async def ready(self) -> bool:
        return True


@dataclass
class InMemoryCloud:
    """ReplyStore (write-once, as S3 with If-None-Match), SelfStop, ReadinessMarker and
    Metrics in one, touching nothing outside the process."""

    replies: dict[str, Reply] = field(default_factory=dict)
    stops: int = 0

    async def put_reply(self, key: str, reply: Reply) -> None:
        if key in self.replies:
            raise ReplyExists(f"{key} exists")
        self.replies[key] = reply

    async def get_reply(self, key: str) -> Reply | None:
        return self.replies.get(key)

    def instance_id(self) -> str:
        return NODE

    def stop_self(self) -> None:
        self.stops += 1

    def mark_ready(self, instance_id: str, ready_ms: int) -> None:
        pass

    def count(self, name: str, value: float = 1.0) -> None:
        pass


async def serve(args: protocol.Args) -> None:
    settings = WatcherSettings(node_id=NODE, concurrency=args.concurrency)
    redis = connect(args.redis_url)
    claims = connect(args.redis_url, blocking_seconds=settings.claim_timeout_seconds)
    engine, cloud = NoOpEngine(), InMemoryCloud()
    ports = NodePorts(store=cloud, self_stop=cloud, marker=cloud, metrics=cloud)
    queue = JobQueue(redis, blocking=claims)
    node = WatcherNode(settings, NODE, queue, NodeRegistry(redis), engine, ports)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, node.request_shutdown)
    try:
        await node.run()
    finally:
        await engine.aclose()
        await redis.aclose()
        await claims.aclose()


def new_job(text: str) -> Job:
    return Job.from_request(InferRequest(prompt=text), SUB)


async def enqueue_all(args: protocol.Args) -> None:
    redis = connect(args.redis_url)
    queue = JobQueue(redis)
    for index in range(args.jobs):
        await queue.enqueue(new_job(protocol.payload(index)))
    await redis.aclose()


async def time_one_by_one(args: protocol.Args) -> list[float]:
    redis = connect(args.redis_url)
    waits = connect(args.redis_url, blocking_seconds=protocol.RESULT_TIMEOUT_SECONDS)
    queue = JobQueue(redis, blocking=waits)

    async def run_one(text: str) -> None:
        job = new_job(text)
        await queue.enqueue(job)
        protocol.enqueued()
        if not await queue.wait_done(job.id, protocol.RESULT_TIMEOUT_SECONDS):
            raise TimeoutError(f"no reply to {job.id}")

    samples = await protocol.one_at_a_time_async(run_one, args.jobs, args.seed)
    await redis.aclose()
    await waits.aclose()
    return samples


@contextlib.contextmanager
def watcher_log(path: Path) -> Iterator[None]:
    """The watcher's JSON lines at INFO to `path`, as the node's go to supervisord's: its one
    job_answered line per job among them."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("watcher", "tlfif")]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
        handler.close()


def main(*, logged: bool = False) -> int:
    """The system's script; `logged` (tlfif_logged_worker) writes the watcher's INFO lines
    to a file while it works, so the table shows what the one line per job costs."""

    def work(args: protocol.Args) -> None:
        if not logged:
            uvloop.run(serve(args))
            return
        with (
            tempfile.TemporaryDirectory(prefix="tlfif-bench-") as folder,
            watcher_log(Path(folder) / "watcher.log"),
        ):
            uvloop.run(serve(args))

    return protocol.main(
        # On uvloop, as watcher/main.py runs the node; the submitters on asyncio's loop.
        work=work,
        enqueue=lambda args: asyncio.run(enqueue_all(args)),
        latency=lambda args: asyncio.run(time_one_by_one(args)),
        distributions=("tlfif", "redis", "hiredis", "pydantic"),
    )


if __name__ == "__main__":
    sys.exit(main())
