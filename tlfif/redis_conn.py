"""Opening Redis: standalone or cluster mode, redis:// or rediss://, with a password or ACL user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import RedisClusterException, RedisError

from tlfif.errors import QueueUnavailable

RedisClient: TypeAlias = Redis | RedisCluster

# redis-py 8 reads with a 5 s socket timeout by default, which cuts a BLMOVE that is
# meant to block: /result?wait blocks up to 25 s, a watcher's claim up to 30 s.
SOCKET_TIMEOUT_SECONDS = 40.0


def connect(url: str, *, cluster: bool = False) -> RedisClient:
    """A client for `url` (credentials and TLS come from the URL itself).

    Cluster mode is for ElastiCache Serverless and other cluster-mode servers; every TL-FIF
    key shares the {tlfif} hash tag, so all commands land on one slot either way.
    """
    if cluster:
        return RedisCluster.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=5,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
        )
    return Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=5, socket_timeout=SOCKET_TIMEOUT_SECONDS
    )


def load_script(client: RedisClient, name: str) -> AsyncScript:
    """Register tlfif/lua/<name>.lua once; redis-py runs it by SHA and reloads on NOSCRIPT."""
    source = resources.files("tlfif").joinpath("lua", f"{name}.lua").read_text("utf-8")
    return client.register_script(source)


@contextmanager
def queue_errors() -> Iterator[None]:
    """Any Redis failure inside becomes QueueUnavailable: one place maps it, and the
    router turns it into a 503 with Retry-After rather than a 500."""
    try:
        yield
    # A cluster client that reaches no node raises RedisClusterException, outside RedisError.
    except (RedisError, RedisClusterException) as exc:
        raise QueueUnavailable(f"queue unreachable: {exc}") from exc
