"""GET /ping (is the router up) and GET /queue-health (is Redis up, and fast). No auth."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import services
from router.errors import DEFAULT_RETRY_AFTER
from tlfif.contracts import Ping
from tlfif.health import check_queue


async def ping(request: Request) -> Response:
    return JSONResponse(Ping().model_dump(mode="json"))


async def queue_health(request: Request) -> Response:
    found = services(request)
    health = await check_queue(found.redis, found.settings.queue_health_max_ms)
    body = health.model_dump(mode="json", by_alias=True, exclude_none=True)
    headers = None if health.ok else {"Retry-After": str(DEFAULT_RETRY_AFTER)}
    return JSONResponse(body, status_code=200 if health.ok else 503, headers=headers)
