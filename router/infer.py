"""POST /infer: queue a prompt, wake the node if it sleeps, answer 202 with the job id.

The job is queued in every case the budget allows, also while the node is stopped or AWS
refuses to start it: the queue is what carries a prompt through a cold start.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import Services, caller, services
from router.inputs import idempotency_key, infer_request
from tlfif.contracts import Accepted, Job
from tlfif.errors import BudgetHold, TlfifError
from tlfif.wake import Wake

log = logging.getLogger(__name__)
BUDGET_MESSAGE = "the monthly budget is reached: no prompt is queued until the owner lifts the hold"


async def infer(request: Request) -> Response:
    claims = await caller(request)
    body = await infer_request(request)
    key = idempotency_key(request)
    found = services(request)
    if await found.registry.hold() == "budget":
        # Checked before enqueueing: under a budget hold nothing is queued at all.
        raise BudgetHold(BUDGET_MESSAGE)
    enqueued = await found.queue.enqueue(Job.from_request(body, claims.sub), key)
    wake = await _wake_for_new_job(found)
    ready = wake.phase == "ready"
    accepted = Accepted(
        status="queued" if ready else "starting",
        id=enqueued.id,
        eta=found.settings.warm_eta_seconds if ready else found.settings.cold_eta_seconds,
        node_error=wake.error,
    )
    return JSONResponse(accepted.model_dump(mode="json", exclude_none=True), status_code=202)


async def _wake_for_new_job(found: Services) -> Wake:
    """Lift a manual hold and start the node if it is down.

    The job is queued already, so whatever fails here is reported in the 202 rather than
    as an error: an error would tell the client its prompt was lost when it was not.
    """
    try:
        await found.registry.clear_manual_hold()
        return await found.waker.ensure_awake(respect_manual_hold=False)
    except Exception as exc:
        log.exception("could not wake the node for a queued job")
        message = exc.message if isinstance(exc, TlfifError) else "the node could not be checked"
        return Wake(phase="stopped", error=message)
