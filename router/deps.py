"""What the router is built from (RouterDeps) and what its handlers use (Services).

The Redis client is made inside the app's lifespan, not with the app: redis.asyncio binds
its connections to the event loop that first uses them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request

from tlfif.auth import Claims
from tlfif.nodes import NodeRegistry
from tlfif.ports import Metrics, NodeControl, ReplyStore
from tlfif.queue import JobQueue
from tlfif.redis_conn import RedisClient, connect
from tlfif.settings import CommonSettings, RouterSettings
from tlfif.wake import NodeWaker


class Verifier(Protocol):
    """Turns an Authorization header into the caller's claims; raises TokenInvalid."""

    async def verify(self, authorization: str | None) -> Claims: ...


@dataclass(frozen=True)
class RouterDeps:
    settings: RouterSettings
    common: CommonSettings
    verifier: Verifier
    metrics: Metrics
    replies: ReplyStore
    # Called on first use, not at start: the EC2 adapter is for the cold path only.
    node_control: Callable[[], NodeControl]
    # Defaults to common.redis_url; tests point it elsewhere.
    redis: Callable[[], RedisClient] | None = None

    def connect_redis(self) -> RedisClient:
        if self.redis is not None:
            return self.redis()
        return connect(self.common.redis_url, cluster=self.common.redis_cluster)


@dataclass(frozen=True)
class Services:
    settings: RouterSettings
    redis: RedisClient
    queue: JobQueue
    registry: NodeRegistry
    waker: NodeWaker
    replies: ReplyStore
    verifier: Verifier
    metrics: Metrics


@asynccontextmanager
async def open_services(deps: RouterDeps) -> AsyncIterator[Services]:
    redis = deps.connect_redis()
    registry = NodeRegistry(redis)
    try:
        yield Services(
            settings=deps.settings,
            redis=redis,
            queue=JobQueue(redis, job_ttl_seconds=deps.common.job_ttl_seconds),
            registry=registry,
            waker=NodeWaker(
                registry,
                deps.node_control,
                deps.metrics,
                state_cache_seconds=deps.settings.ec2_state_cache_seconds,
                lock_seconds=deps.settings.start_lock_seconds,
            ),
            replies=deps.replies,
            verifier=deps.verifier,
            metrics=deps.metrics,
        )
    finally:
        await redis.aclose()


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def caller(request: Request) -> Claims:
    """The verified claims of the request's bearer token (any failure is a 401)."""
    return await services(request).verifier.verify(request.headers.get("authorization"))
