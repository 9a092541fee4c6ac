"""POST /stop and GET /status: the owner's view of the node and the queue.

The phases come from Redis (heartbeats and the cached EC2 states: the fleet's one word and
each node's), never from an AWS call per request; only POST /stop calls EC2.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, caller_is_owner, owner, services
from tlfif.contracts import NodeStatus, Stopping
from tlfif.nodes import node_infos


async def stop(request: Request) -> Response:
    """The owner stops the node now and sets the manual hold: polls no longer restart it,
    the owner's next POST /infer does (a plain user's prompt waits for the owner)."""
    await owner(request, may="stop the node")
    found = services(request)
    await found.waker.stop()
    stopping = Stopping(status="stopping", node=await found.waker.phase())
    return JSONResponse(stopping.model_dump(mode="json"))


async def status(request: Request) -> Response:
    claims = await caller(request)
    found = services(request)
    nodes = node_infos(await found.registry.heartbeats(), await found.registry.instance_states())
    status = NodeStatus(
        node=await found.waker.phase(),
        queue_depth=await found.queue.depth(),
        pending=await found.queue.pending_for(claims.sub),
        hold=await found.registry.hold(),
        start_error=await found.registry.start_error(),
        owner=caller_is_owner(request, claims),
        nodes=nodes,
    )
    return JSONResponse(status.model_dump(mode="json"))
