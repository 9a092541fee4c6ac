"""The router's warm path in-process, next to what it wraps: POST /infer against the bare
enqueue script (JobQueue.enqueue, called directly on the same Redis) and GET /ping.

Two apps as create_app builds them, on one redis-server started here, with the node's
heartbeat "ready" (so no AWS call on either):
- gateway: the claims API Gateway's JWT authorizer hands over on Lambda (no JWKS), the
  per-user rate limits and pending cap off: the path itself;
- verified: the router verifying each RS256 access token itself against the pool's JWKS
  (as under uvicorn; served by a token issuer double), with the per-user rate limits and
  pending cap at their defaults, the requests spread over enough users that none is refused.
Beside them, one after another in alternating order: the enqueue script alone, the token
check alone (TokenVerifier.verify), GET /ping (app and transport) and a Redis PING (one
round trip). Issue 15's goal: POST /infer at most 3x the enqueue it wraps (p50 and p95);
the seed's budget is a warm p95 of 60 ms.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.report import conditions, ratio, spread, write_results
from local.processes import free_port
from local.redis_server import start_redis
from router.app import create_app
from router.deps import RouterDeps
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tlfif.auth import TokenVerifier
from tlfif.contracts import InferRequest, Job, Reply
from tlfif.nodes import NodeRegistry
from tlfif.ports import InstanceState
from tlfif.queue import JobQueue
from tlfif.redis_conn import RedisClient, connect
from tlfif.settings import CommonSettings, RouterSettings

REQUESTS = 1000  # of each kind, interleaved one by one
WARM_UP = 30
NODE = "bench-node"
SUB = sub_of("bench-user")  # a Cognito sub is a UUID
PROMPT = {"prompt": "Say hello in five words.", "max_tokens": 32}
GOAL = 3.0  # POST /infer over the enqueue it wraps, at p50 and at p95
COUNTED_CALLS = 50  # of each kind, after the timed ones, to count their Redis round trips
CALLS_EACH = WARM_UP + REQUESTS + COUNTED_CALLS
KINDS = ("enqueue", "infer_gateway", "infer_fleet", "infer_verified", "token_verify", "ping",
         "redis_ping")  # fmt: skip
# The fleet app allows this many nodes (ADR 0032) and meets a backlog, since nothing
# consumes the queue: the scale-out check runs on every request past its threshold.
FLEET_NODES = 4
LABELS = {
    "enqueue": "JobQueue.enqueue (the Lua script alone)",
    "infer_gateway": "POST /infer, gateway claims, no limits",
    "infer_fleet": f"POST /infer, as above, {FLEET_NODES} nodes allowed, a backlog",
    "infer_verified": "POST /infer, RS256 token verified, limits on",
    "token_verify": "TokenVerifier.verify alone",
    "ping": "GET /ping",
    "redis_ping": "Redis PING",
}


@dataclass
class NoCloud:
    """NodeControl, ReplyStore and Metrics in one: records any cloud call (there must be
    none on the warm path) and counts metrics in memory."""

    cloud_calls: list[str] = field(default_factory=list)
    metric_counts: int = 0

    def state(self) -> InstanceState:
        self.cloud_calls.append("ec2.state")
        return "running"

    def start(self) -> InstanceState:
        self.cloud_calls.append("ec2.start")
        return "running"

    def stop(self) -> InstanceState:
        self.cloud_calls.append("ec2.stop")
        return "stopped"

    def instance_states(self) -> dict[str, InstanceState]:
        self.cloud_calls.append("ec2.describe")
        return {"i-bench": "running"}

    def scale_out(self, limit: int) -> InstanceState | None:
        self.cloud_calls.append("ec2.scale_out")
        return None

    async def put_reply(self, key: str, reply: Reply) -> None:
        self.cloud_calls.append("s3.put")

    async def get_reply(self, key: str) -> Reply | None:
        self.cloud_calls.append("s3.get")
        return None

    def count(self, name: str, value: float = 1.0) -> None:
        self.metric_counts += 1


class GatewayClaims:
    """Puts the authorizer's claims in scope["aws.event"], as Mangum does on Lambda."""

    def __init__(self, app: ASGIApp, issuer: TokenIssuerDouble) -> None:
        self.app = app
        now = int(time.time())
        claims = {"sub": SUB, "iss": issuer.issuer, "client_id": issuer.client_id,
                  "token_use": "access", "iat": str(now), "exp": str(now + 3600)}  # fmt: skip
        self.event: dict[str, Any] = {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "aws.event": self.event}
        await self.app(scope, receive, send)


def gateway_settings(issuer: TokenIssuerDouble) -> RouterSettings:
    # Limits and the pending cap off: the path, not the refusals.
    return RouterSettings(
        cognito_issuer=issuer.issuer,
        client_ids=[issuer.client_id],
        trust_gateway_claims=True,
        throttle_write_per_second=0,
        throttle_write_per_minute=0,
        throttle_read_per_second=0,
        throttle_read_per_minute=0,
        user_pending_cap=0,
    )


def verified_settings(issuer: TokenIssuerDouble) -> RouterSettings:
    # The shipped limits and pending cap: each request runs the throttle script and the
    # enqueue script's cap check.
    return RouterSettings(cognito_issuer=issuer.issuer, client_ids=[issuer.client_id])


def users_needed(requests: int, settings: RouterSettings) -> int:
    """Users enough that none of `requests` round-robin requests is refused: each user
    sends at most half of what the per-minute limit and the pending cap allow."""
    allowed = min(settings.throttle_write_per_minute, settings.user_pending_cap) // 2
    return math.ceil(requests / max(1, allowed))


def new_job() -> Job:
    return Job.from_request(InferRequest.model_validate(PROMPT), SUB)


async def timed_ms(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def deps_for(
    settings: RouterSettings,
    redis_url: str,
    cloud: NoCloud,
    verifier: TokenVerifier | None,
    nodes: int = 1,
) -> RouterDeps:
    return RouterDeps(
        settings=settings,
        common=CommonSettings(redis_url=redis_url, node_count_max=nodes),
        metrics=cloud,
        replies=cloud,
        node_control=lambda: cloud,
        verifier=verifier,
        redis=lambda: connect(redis_url),
    )


class WarmPaths:
    """Each thing timed, as one call; the routers' answers kept to check afterwards."""

    def __init__(
        self,
        queue: JobQueue,
        gateway: httpx.AsyncClient,
        fleet: httpx.AsyncClient,
        verified: httpx.AsyncClient,
        verifier: TokenVerifier,
        redis: RedisClient,
        headers: list[dict[str, str]],
    ) -> None:
        self.queue, self.gateway, self.fleet, self.verified = queue, gateway, fleet, verified
        self.verifier, self.redis, self.headers = verifier, redis, headers
        # Fresh jobs, made before any clock starts: the router makes its own inside its
        # request, and a job enqueued twice would take the script's idempotent path.
        self.jobs = iter([new_job() for _ in range(CALLS_EACH)])
        self.users_in_turn = itertools.cycle(headers)
        self.answers: dict[str, set[str]] = {"infer_gateway": set(), "infer_fleet": set(),
                                             "infer_verified": set(), "ping": set()}  # fmt: skip

    def calls(self) -> dict[str, Callable[[], Awaitable[None]]]:
        return {kind: getattr(self, kind) for kind in KINDS}

    async def enqueue(self) -> None:
        await self.queue.enqueue(next(self.jobs))

    async def infer_gateway(self) -> None:
        self._answered("infer_gateway", await self.gateway.post("/infer", json=PROMPT))

    async def infer_fleet(self) -> None:
        self._answered("infer_fleet", await self.fleet.post("/infer", json=PROMPT))

    async def infer_verified(self) -> None:
        headers = next(self.users_in_turn)
        self._answered(
            "infer_verified", await self.verified.post("/infer", json=PROMPT, headers=headers)
        )

    async def token_verify(self) -> None:
        await self.verifier.verify(self.headers[0]["Authorization"])

    async def ping(self) -> None:
        self.answers["ping"].add(str((await self.gateway.get("/ping")).status_code))

    async def redis_ping(self) -> None:
        await self.redis.ping()

    def _answered(self, kind: str, response: httpx.Response) -> None:
        status = response.json().get("status") or response.text[:200]
        self.answers[kind].add(f"{response.status_code} {status}")


async def interleave(calls: dict[str, Callable[[], Awaitable[None]]]) -> dict[str, list[float]]:
    """Milliseconds of each call, REQUESTS times, after WARM_UP untimed rounds."""
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(WARM_UP):
        for call in calls.values():
            await call()
    for index in range(REQUESTS):
        # Rotate the order, so no kind always follows another.
        shift = index % len(KINDS)
        for kind in KINDS[shift:] + KINDS[:shift]:
            samples[kind].append(await timed_ms(calls[kind]))
    return samples


async def round_trips(
    calls: dict[str, Callable[[], Awaitable[None]]], redis: RedisClient
) -> dict[str, float]:
    """Redis round trips per call of each kind (INFO total_reads_processed), untimed."""

    async def reads() -> int:
        return int((await redis.info("stats"))["total_reads_processed"])

    found = {}
    for kind, call in calls.items():
        before = await reads()
        for _ in range(COUNTED_CALLS):
            await call()
        # Less the INFO that took `before`.
        found[kind] = round((await reads() - before - 1) / COUNTED_CALLS, 2)
    return found


async def measure(redis_url: str) -> dict[str, Any]:
    cloud, fleet_cloud, issuer = NoCloud(), NoCloud(), TokenIssuerDouble()
    limited = verified_settings(issuer)
    users = users_needed(CALLS_EACH, limited)
    headers = [
        {"Authorization": f"Bearer {issuer.access_token(f'user-{n}')}"} for n in range(users)
    ]
    own_redis = connect(redis_url)
    await NodeRegistry(own_redis).beat(NODE, "ready", ttl_seconds=600)
    async with issuer.http_client() as jwks_http:
        verifier = TokenVerifier(issuer.issuer, issuer.jwks_url, [issuer.client_id], http=jwks_http)
        gateway_app = create_app(deps_for(gateway_settings(issuer), redis_url, cloud, None))
        fleet_app = create_app(
            deps_for(gateway_settings(issuer), redis_url, fleet_cloud, None, nodes=FLEET_NODES)
        )
        verified_app = create_app(deps_for(limited, redis_url, cloud, verifier))
        async with (
            gateway_app.router.lifespan_context(gateway_app),
            fleet_app.router.lifespan_context(fleet_app),
            verified_app.router.lifespan_context(verified_app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=GatewayClaims(gateway_app, issuer)),
                base_url="http://router.bench",
            ) as gateway,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=GatewayClaims(fleet_app, issuer)),
                base_url="http://router.bench",
            ) as fleet,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=verified_app), base_url="http://router.bench"
            ) as verified,
        ):
            queue = JobQueue(own_redis)
            paths = WarmPaths(queue, gateway, fleet, verified, verifier, own_redis, headers)
            samples = await interleave(paths.calls())
            trips = await round_trips(paths.calls(), own_redis)
    await own_redis.aclose()
    expected = {"infer_gateway": {"202 queued"}, "infer_fleet": {"202 queued"},
                "infer_verified": {"202 queued"}, "ping": {"200"}}  # fmt: skip
    if paths.answers != expected:
        raise RuntimeError(f"unexpected answers: {paths.answers}")
    if cloud.cloud_calls:
        raise RuntimeError(f"the warm path called the cloud: {sorted(set(cloud.cloud_calls))}")
    return figures(samples, users, issuer.fetches, paths.answers) | {
        "redis_round_trips_per_call": trips,
        # The one EC2 call the fleet's backlog asked for, and no more while it "boots".
        "fleet_ec2_calls": fleet_cloud.cloud_calls,
    }


def figures(
    samples: dict[str, list[float]], users: int, jwks_fetches: int, answers: dict[str, set[str]]
) -> dict[str, Any]:
    latency = {kind: spread(samples[kind]) for kind in KINDS}
    ratios = {}
    for kind in ("infer_gateway", "infer_fleet", "infer_verified"):
        for base in ("enqueue", "ping"):
            for at in ("p50", "p95"):
                ratios[f"{kind}_over_{base}_{at}"] = ratio(latency[kind][at], latency[base][at])
    goals = [
        {"goal": f"{kind} {at} <= {GOAL:g}x enqueue", "value": ratios[f"{kind}_over_enqueue_{at}"],
         "met": (ratios[f"{kind}_over_enqueue_{at}"] or math.inf) <= GOAL}
        for kind in ("infer_gateway", "infer_verified") for at in ("p50", "p95")
    ]  # fmt: skip
    for at in ("p50", "p95"):
        ratios[f"infer_fleet_over_infer_gateway_{at}"] = ratio(
            latency["infer_fleet"][at], latency["infer_gateway"][at]
        )
    return {
        "method": {
            "requests_each": REQUESTS,
            "warm_up_each": WARM_UP,
            "interleaved": "one of each kind after another, the order rotated each time",
            "transport": "httpx.AsyncClient over ASGITransport, in-process",
            "gateway": "gateway claims (TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS=true), as on Lambda; "
            "rate limits and pending cap 0 (off)",
            "verified": "Authorization: Bearer <RS256 access token>, checked by TokenVerifier "
            "against a JWKS (cached after its first fetch); rate limits and pending cap at "
            f"their defaults, the requests round-robin over {users} users, none refused",
            "enqueue": "JobQueue.enqueue of a job built before the clock starts, no cap",
            "node": "heartbeat ready: no EC2 call (checked: none made)",
            "fleet": f"the gateway app with node_count_max={FLEET_NODES} (ADR 0032); the queue "
            "holds every job sent, past the scale-out threshold, so each request checks the "
            "scale-out marker; its one scale-out is in fleet_ec2_calls",
            "redis": "redis-server on 127.0.0.1 as the local stack runs it (append-only), "
            "started by the bench",
        },
        "latency_ms": latency,
        "ratios": ratios,
        "goals": goals,
        "jwks_fetches": jwks_fetches,
        "answers": {kind: sorted(seen) for kind, seen in answers.items()},
    }


def markdown_table(found: dict[str, Any]) -> str:
    latency = found["latency_ms"]
    trips = found.get("redis_round_trips_per_call", {})
    heads = ["path", "p50 ms", "p95 ms", "p99 ms", "p50 vs enqueue", "p95 vs enqueue",
             "Redis round trips"]  # fmt: skip
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for kind in KINDS:
        stats = latency[kind]
        vs = [ratio(stats[at], latency["enqueue"][at]) for at in ("p50", "p95")]
        lines.append(
            f"| {LABELS[kind]} | {stats['p50']:.2f} | {stats['p95']:.2f} | {stats['p99']:.2f} "
            f"| x{vs[0]:.2f} | x{vs[1]:.2f} | {trips.get(kind, '-')} |"
        )
    return "\n".join(lines)


def run() -> Path:
    started = conditions()
    with tempfile.TemporaryDirectory(prefix="tlfif-bench-") as run_dir:
        server, url = start_redis(free_port(), {}, Path(run_dir))
        try:
            found = asyncio.run(measure(url))
        finally:
            server.stop()
    path = write_results("router", found, started)
    print(f"router warm path ({REQUESTS} of each, interleaved):")
    print(markdown_table(found))
    for goal in found["goals"]:
        print(f"- {goal['goal']}: x{goal['value']:.2f} ({'met' if goal['met'] else 'NOT met'})")
    return path
