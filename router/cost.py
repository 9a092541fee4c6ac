"""GET /cost: month-to-date spend as billed, with its age, and a live estimate.

Read from Redis alone (what cost_publisher stored, the scheduled check's uptime ledger,
heartbeats): no AWS call per request, so the GUI's label may poll it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, services
from tlfif.cost_view import read_cost


async def cost(request: Request) -> Response:
    await caller(request)
    found = services(request)
    view = await read_cost(found.redis, found.registry)
    return JSONResponse(view.model_dump(mode="json"))
