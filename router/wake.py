"""POST /wake: start the node ahead of a prompt the caller is about to send (ADR 0029).

A write, so it shares POST /infer's rate limits; nothing is queued. The body may carry the
idle minutes that then apply if no prompt comes (an empty body takes the default).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import caller, caller_is_owner, services
from router.inputs import json_body
from tlfif.contracts import WakeRequest, Woken, invalid_input
from tlfif.runtime.logs import log_audit
from tlfif.wake import seconds_until_ready

log = logging.getLogger(__name__)


async def wake(request: Request) -> Response:
    claims = await caller(request)
    found = services(request)
    body = await json_body(request, empty_is_object=True)
    try:
        asked = WakeRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_input(exc, body) from None
    settings = found.settings
    woke = await found.waker.wake_ahead(
        claims.sub,
        asked.idle,
        by_owner=caller_is_owner(request, claims),
        cold_eta_seconds=settings.cold_eta_seconds,
    )
    woken = Woken(
        node=woke.phase,
        idle=asked.idle,
        eta=seconds_until_ready(
            woke.phase, 0, cold_eta=settings.cold_eta_seconds, warm_eta=settings.warm_eta_seconds
        ),
        started=woke.started,
        node_error=woke.error,
    )
    outcome = "started" if woke.started else ("refused" if woke.error else woke.phase)
    log_audit(log, "wake", claims.sub, outcome, idle=asked.idle)
    return JSONResponse(woken.model_dump(mode="json", exclude_none=True))
