"""The router's warm path in-process: POST /infer next to GET /ping, same app, same run.

The app is the one create_app builds, on a real redis-server started here, with the node's
heartbeat "ready" (so no AWS call) and the claims taken as API Gateway's JWT authorizer
hands them over on Lambda (so no JWKS). GET /ping touches neither auth nor Redis: the
ratio infer/ping is what the warm path (claims, rate limit, enqueue script, wake check)
costs on top of the app and transport themselves. Redis PING is timed alongside, as the
price of one round trip; the seed's budget is a warm p95 of 60 ms.
"""

from __future__ import annotations

import asyncio
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
from tlfif.contracts import Reply
from tlfif.nodes import NodeRegistry
from tlfif.ports import InstanceState
from tlfif.redis_conn import connect
from tlfif.settings import CommonSettings, RouterSettings

REQUESTS = 1000  # of each kind, interleaved one by one
WARM_UP = 30
ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Bench"
CLIENT_ID = "bench-client"
NODE = "bench-node"
PROMPT = {"prompt": "Say hello in five words.", "max_tokens": 32}


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

    async def put_reply(self, key: str, reply: Reply) -> None:
        self.cloud_calls.append("s3.put")

    async def get_reply(self, key: str) -> Reply | None:
        self.cloud_calls.append("s3.get")
        return None

    def count(self, name: str, value: float = 1.0) -> None:
        self.metric_counts += 1


class GatewayClaims:
    """Puts the authorizer's claims in scope["aws.event"], as Mangum does on Lambda."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        claims = {"sub": "bench-user", "iss": ISSUER, "client_id": CLIENT_ID,
                  "token_use": "access", "exp": str(int(time.time()) + 3600)}  # fmt: skip
        self.event: dict[str, Any] = {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "aws.event": self.event}
        await self.app(scope, receive, send)


def settings() -> RouterSettings:
    # Limits and the pending cap off: the bench measures the path, not the refusals.
    return RouterSettings(
        cognito_issuer=ISSUER,
        client_ids=[CLIENT_ID],
        trust_gateway_claims=True,
        throttle_write_per_second=0,
        throttle_write_per_minute=0,
        throttle_read_per_second=0,
        throttle_read_per_minute=0,
        user_pending_cap=0,
    )


async def timed_ms(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(redis_url: str) -> dict[str, Any]:
    cloud = NoCloud()
    deps = RouterDeps(
        settings=settings(),
        common=CommonSettings(redis_url=redis_url),
        metrics=cloud,
        replies=cloud,
        node_control=lambda: cloud,
        redis=lambda: connect(redis_url),
    )
    app = create_app(deps)
    own_redis = connect(redis_url)
    await NodeRegistry(own_redis).beat(NODE, "ready", ttl_seconds=600)
    transport = httpx.ASGITransport(app=GatewayClaims(app))
    samples: dict[str, list[float]] = {"infer": [], "ping": [], "redis_ping": []}
    statuses: dict[str, set[str]] = {"infer": set(), "ping": set()}

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router.bench") as client,
    ):

        async def infer() -> None:
            response = await client.post("/infer", json=PROMPT)
            statuses["infer"].add(f"{response.status_code} {response.json().get('status')}")

        async def ping() -> None:
            response = await client.get("/ping")
            statuses["ping"].add(str(response.status_code))

        async def redis_ping() -> None:
            await own_redis.ping()

        calls = {"infer": infer, "ping": ping, "redis_ping": redis_ping}
        for _ in range(WARM_UP):
            for call in calls.values():
                await call()
        for index in range(REQUESTS):
            # Alternate the order, so neither kind always follows the other.
            order = list(calls) if index % 2 == 0 else list(reversed(calls))
            for name in order:
                samples[name].append(await timed_ms(calls[name]))
    await own_redis.aclose()
    if statuses["infer"] != {"202 queued"} or statuses["ping"] != {"200"}:
        raise RuntimeError(f"unexpected answers: {statuses}")
    if cloud.cloud_calls:
        raise RuntimeError(f"the warm path called the cloud: {sorted(set(cloud.cloud_calls))}")
    infer_stats, ping_stats = spread(samples["infer"]), spread(samples["ping"])
    return {
        "method": {
            "requests_each": REQUESTS,
            "warm_up_each": WARM_UP,
            "interleaved": "infer, ping, redis PING one after another, order alternating",
            "transport": "httpx.AsyncClient over ASGITransport, in-process",
            "auth": "gateway claims (TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS=true), as on Lambda",
            "node": "heartbeat ready: no EC2 call (checked: none made)",
            "redis": "redis-server on 127.0.0.1, started by the bench",
        },
        "latency_ms": {
            "infer": infer_stats,
            "ping": ping_stats,
            "redis_ping": spread(samples["redis_ping"]),
        },
        "ratios": {
            "infer_over_ping_p50": ratio(infer_stats["p50"], ping_stats["p50"]),
            "infer_over_ping_p95": ratio(infer_stats["p95"], ping_stats["p95"]),
            "infer_over_ping_p99": ratio(infer_stats["p99"], ping_stats["p99"]),
        },
        "answers": {name: sorted(seen) for name, seen in statuses.items()},
    }


def run() -> Path:
    started = conditions()
    with tempfile.TemporaryDirectory(prefix="tlfif-bench-") as run_dir:
        server, url = start_redis(free_port(), {}, Path(run_dir))
        try:
            figures = asyncio.run(measure(url))
        finally:
            server.stop()
    path = write_results("router_warm", figures, started)
    latency, ratios = figures["latency_ms"], figures["ratios"]
    print(f"router warm path ({REQUESTS} of each, interleaved, ms):")
    for name in ("infer", "ping", "redis_ping"):
        stats = latency[name]
        print(
            f"  {name:11} p50 {stats['p50']:7.2f}  p95 {stats['p95']:7.2f}  p99 {stats['p99']:7.2f}"
        )
    print(
        f"  infer/ping  p50 x{ratios['infer_over_ping_p50']}"
        f"  p95 x{ratios['infer_over_ping_p95']}  p99 x{ratios['infer_over_ping_p99']}"
    )
    return path
