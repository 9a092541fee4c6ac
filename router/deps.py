"""What the router is built from (RouterDeps), what its handlers use (Services), and who
is calling (`caller`: authenticated, then rate-limited).

The Redis client is made inside the app's lifespan (or, on Lambda, once per execution
environment), not with the app: redis.asyncio binds its connections to the event loop that
first uses them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.requests import Request

from router.authentication import Authenticator, Verifier, authenticator_for
from router.middleware import client_ip
from tlfif.api_key_contracts import KeyClaims
from tlfif.claims import Claims, is_owner
from tlfif.errors import Forbidden, TokenInvalid
from tlfif.key_ring import KeyRing
from tlfif.nodes import NodeRegistry
from tlfif.ports import (
    ApiKeyStore,
    Metrics,
    NodeControl,
    ReplyStore,
    UsageStore,
    WebhookRecords,
    WebhookSecrets,
)
from tlfif.queue import JobQueue
from tlfif.redis_conn import RedisClient, connect
from tlfif.settings import CommonSettings, RouterSettings
from tlfif.throttle import Limit, Throttle
from tlfif.wake import NodeWaker, Scaling
from tlfif.webhook_targets import Resolver, WebhookChecker, resolver_for

# POST /infer, POST /stop, POST /wake, the key routes' POST and DELETE and the webhook
# routes' POST and PUT share the write limits; every other authenticated route is a read.
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class RouterDeps:
    settings: RouterSettings
    common: CommonSettings
    metrics: Metrics
    replies: ReplyStore
    # Called on first use, not at start: the EC2 adapter is for the cold path only.
    node_control: Callable[[], NodeControl]
    # Checks bearer tokens itself; None (Lambda) when settings.trust_gateway_claims.
    verifier: Verifier | None = None
    # Where API keys are kept (S3 api-keys/, ADR 0027); None: a deployment without keys,
    # where every key is a 401 and /keys answers 503.
    api_keys: ApiKeyStore | None = None
    # Each user's webhook secret and setting (S3 webhook-secrets/, ADR 0031); None: the
    # webhook secret routes answer 503.
    webhook_secrets: WebhookSecrets | None = None
    # Where a request's webhook waits for its reply (S3 webhooks/, ADR 0031); None: a
    # request naming a webhook is refused (400 unsupported).
    webhook_records: WebhookRecords | None = None
    # How webhook hosts are resolved; by default the system's resolver, or the DNS server
    # TLFIF_WEBHOOK_NAMESERVER names.
    webhook_resolve: Resolver | None = None
    # Each user's month of usage (S3 usage/, ADR 0034); None: GET /usage answers 503.
    usage: UsageStore | None = None
    # Defaults to common.redis_url; tests point it elsewhere.
    redis: Callable[[], RedisClient] | None = None
    # The long poll's client for blocking reads; by default one on common.redis_url, or, where
    # `redis` is given alone, that one (fakeredis blocks without sockets).
    blocking_redis: Callable[[], RedisClient] | None = None
    # Seconds since the epoch, for the rate limits; tests replay minutes with a fake one.
    clock: Callable[[], float] = time.time

    def connect_redis(self) -> RedisClient:
        if self.redis is not None:
            return self.redis()
        return connect(self.common.redis_url, cluster=self.common.redis_cluster)

    def connect_blocking_redis(self) -> RedisClient | None:
        """The client for the long poll's blocking read (None: the one client serves)."""
        if self.blocking_redis is not None:
            return self.blocking_redis()
        if self.redis is not None:
            return None
        return connect(
            self.common.redis_url,
            cluster=self.common.redis_cluster,
            # The longest wait of any route: GET /result's ?wait, or a /v1 request's hold.
            blocking_seconds=max(self.settings.max_wait_seconds, self.settings.v1_wait_seconds),
        )


@dataclass(frozen=True)
class Services:
    settings: RouterSettings
    redis: RedisClient
    queue: JobQueue
    registry: NodeRegistry
    waker: NodeWaker
    replies: ReplyStore
    authenticator: Authenticator
    throttle: Throttle
    metrics: Metrics
    key_ring: KeyRing | None = None
    webhook_secrets: WebhookSecrets | None = None
    webhook_records: WebhookRecords | None = None
    webhooks: WebhookChecker | None = None
    usage: UsageStore | None = None


def rate_limits(settings: RouterSettings) -> dict[str, list[Limit]]:
    return {
        "write": [
            Limit(settings.throttle_write_per_second, 1),
            Limit(settings.throttle_write_per_minute, 60),
        ],
        "read": [
            Limit(settings.throttle_read_per_second, 1),
            Limit(settings.throttle_read_per_minute, 60),
        ],
    }


@asynccontextmanager
async def open_services(deps: RouterDeps) -> AsyncIterator[Services]:
    redis = deps.connect_redis()
    blocking = deps.connect_blocking_redis()
    registry = NodeRegistry(redis)
    key_ring = None
    if deps.api_keys is not None:
        key_ring = KeyRing(
            redis,
            deps.api_keys,
            cache_seconds=deps.settings.api_key_cache_seconds,
            miss_seconds=deps.settings.api_key_miss_seconds,
            clock=deps.clock,
        )
    try:
        yield Services(
            settings=deps.settings,
            redis=redis,
            queue=JobQueue(
                redis,
                job_ttl_seconds=deps.common.job_ttl_seconds,
                user_pending_cap=deps.settings.user_pending_cap,
                blocking=blocking,
            ),
            registry=registry,
            waker=NodeWaker(
                registry,
                deps.node_control,
                deps.metrics,
                state_cache_seconds=deps.settings.ec2_state_cache_seconds,
                lock_seconds=deps.settings.start_lock_seconds,
                scaling=Scaling.of(deps.common),
            ),
            replies=deps.replies,
            authenticator=authenticator_for(deps.settings, deps.verifier, key_ring),
            throttle=Throttle(redis, rate_limits(deps.settings), deps.metrics, clock=deps.clock),
            metrics=deps.metrics,
            key_ring=key_ring,
            webhook_secrets=deps.webhook_secrets,
            webhook_records=deps.webhook_records,
            webhooks=WebhookChecker(
                deps.webhook_resolve or resolver_for(deps.common.webhook_nameserver),
                allow_loopback=deps.common.webhook_allow_loopback,
            ),
            usage=deps.usage,
        )
    finally:
        if key_ring is not None:
            await key_ring.settle()
        await redis.aclose()
        if blocking is not None:
            await blocking.aclose()


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def caller(request: Request) -> Claims:
    """The caller's verified claims (any failure is a 401), once its rate limit admits the
    request (else a 429). Every route that calls this is rate-limited per user."""
    found = services(request)
    bucket = "write" if request.method in WRITE_METHODS else "read"
    try:
        claims = await found.authenticator.authenticate(request)
    except TokenInvalid:
        # No sub to count against: the source address pays, so a flood of bad tokens is
        # throttled too (a 429 then, rather than the 401).
        await found.throttle.check(f"ip:{client_ip(request.scope)}", bucket)
        raise
    request.state.sub = claims.sub  # for the access log line
    await found.throttle.check(f"sub:{claims.sub}", bucket)
    return claims


def caller_is_owner(request: Request, claims: Claims) -> bool:
    if isinstance(claims, KeyClaims):
        # Only the owner mints keys (POST /keys), so a key speaks for the owner: its prompt
        # lifts the owner's manual hold as a signed-in prompt does (ADR 0027's addendum).
        return True
    settings = services(request).settings
    return is_owner(claims, settings.owner_group, frozenset(settings.owner_subs))


async def owner(request: Request, may: str, *, by_key: bool = False) -> Claims:
    """The caller's claims if the caller owns the deployment, else Forbidden (403) saying
    what only the owner `may` do. An API key may only where `by_key` says so (the stop a
    pipeline's `tlfif smoke` times): a leaked key must not lift a hold or mint keys (ADR
    0027); the owner signs in for those. Only the owner mints keys, so a key is the owner's."""
    claims = await caller(request)
    if isinstance(claims, KeyClaims):
        if by_key:
            return claims
        raise Forbidden(f"an API key may not {may}; sign in as the owner")
    if not caller_is_owner(request, claims):
        raise Forbidden(f"only the deployment's owner may {may}")
    return claims
