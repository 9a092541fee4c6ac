"""POST /stop and GET /status: the owner's view of the node and the queue.

The phases come from Redis (heartbeats and the cached EC2 states: the fleet's one word and
each node's), never from an AWS call per request; only POST /stop calls EC2.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, caller_is_owner, owner, services
from tlfif.api_key_contracts import KeyClaims
from tlfif.contracts import NodeStatus, Stopping
from tlfif.nodes import node_infos
from tlfif.runtime.logs import log_audit

log = logging.getLogger(__name__)


async def stop(request: Request) -> Response:
    """The owner stops the node now and sets the manual hold: polls no longer restart it,
    the owner's next POST /infer does (a plain user's prompt waits for the owner). An owner's
    API key may too (ADR 0027's addendum): stopping spends nothing, and it is what a
    pipeline's smoke test measures."""
    claims = await owner(request, may="stop the node", by_key=True)
    found = services(request)
    await found.waker.stop()
    stopping = Stopping(status="stopping", node=await found.waker.phase())
    key_id = claims.key_id if isinstance(claims, KeyClaims) else None
    log_audit(log, "stop", claims.sub, stopping.node, keyId=key_id)
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
