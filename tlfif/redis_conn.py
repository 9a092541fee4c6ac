"""Opening Redis: standalone or cluster mode, redis:// or rediss://, with a password or ACL user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tlfif.errors import QueueUnavailable

RedisClient: TypeAlias = Redis | RedisCluster

# Every command but a blocking read gives up within 5 s, retries included: a request must
# answer before API Gateway's 30 s, and a frozen Redis (accepting, never answering) must
# fail fast. 3 tries x 1.5 s + 0.1 s + 0.2 s of backoff (redis-py pauses base x 2^n after
# the n-th failure) = 4.8 s.
COMMAND_TIMEOUT_SECONDS = 1.5
RETRIES = 2
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.2
# A pooled connection idle this long is PINGed before use, so the first command after a
# Redis restart does not fail on a dead socket (Redis.from_url sets none of this itself).
HEALTH_CHECK_SECONDS = 10
# A blocking read (BLMOVE) may wait its own timeout; its socket waits this much longer.
BLOCKING_MARGIN_SECONDS = 1.5


def connect(
    url: str, *, cluster: bool = False, blocking_seconds: float | None = None
) -> RedisClient:
    """A client for `url` (credentials and TLS come from the URL itself).

    With `blocking_seconds`, a client for blocking reads that wait up to that long: its
    socket waits that plus a margin, and it does not retry (a retried block would wait
    twice over). Every other client has the short timeouts and retries above.

    Cluster mode is for ElastiCache Serverless and other cluster-mode servers; every TL-FIF
    key shares the {tlfif} hash tag, so all commands land on one slot either way.
    """
    options: dict[str, Any]
    if blocking_seconds is None:
        options = {
            "socket_timeout": COMMAND_TIMEOUT_SECONDS,
            "retry": Retry(ExponentialBackoff(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS), RETRIES),
        }
    else:
        options = {
            "socket_timeout": blocking_seconds + BLOCKING_MARGIN_SECONDS,
            "retry": Retry(NoBackoff(), 0),
        }
    options |= {
        "socket_connect_timeout": COMMAND_TIMEOUT_SECONDS,
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }
    if cluster:
        return RedisCluster.from_url(url, decode_responses=True, **options)
    return Redis.from_url(url, decode_responses=True, **options)


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
