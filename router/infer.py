"""POST /infer: queue a prompt, wake the node if it sleeps, answer 202 with the job id.

The job is queued in every case the budget allows, also while the node is stopped or AWS
refuses to start it: the queue is what carries a prompt through a cold start.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import Services, caller, caller_is_owner, services
from router.inputs import idempotency_key, infer_request
from tlfif.contracts import Accepted, Job
from tlfif.errors import BudgetHold, QueueUnavailable, Throttled, TlfifError
from tlfif.throttle import BREACH_METRIC
from tlfif.wake import Wake

log = logging.getLogger(__name__)
BUDGET_MESSAGE = "the monthly budget is reached: no prompt is queued until the owner lifts the hold"


async def infer(request: Request) -> Response:
    found = services(request)
    found.metrics.count("Requests")
    try:
        return await _infer(request, found)
    except QueueUnavailable:
        # Redis failed somewhere before the job was safely queued: the client got a 503.
        found.metrics.count("RedisEnqueueFail")
        raise


async def _infer(request: Request, found: Services) -> Response:
    claims = await caller(request)
    body = await infer_request(request)
    by_owner = caller_is_owner(request, claims)
    key = idempotency_key(request)
    if await found.registry.hold() == "budget":
        # Checked before enqueueing: under a budget hold nothing is queued at all.
        raise BudgetHold(BUDGET_MESSAGE)
    try:
        enqueued = await found.queue.enqueue(Job.from_request(body, claims.sub), key)
    except Throttled:
        found.metrics.count(BREACH_METRIC)  # the per-user pending cap is a limit too
        raise
    wake = await _wake_for_new_job(found, by_owner=by_owner)
    ready = wake.phase == "ready"
    accepted = Accepted(
        status="queued" if ready else "starting",
        id=enqueued.id,
        eta=found.settings.warm_eta_seconds if ready else found.settings.cold_eta_seconds,
        node_error=wake.error,
        hold="manual" if wake.held == "manual" else None,
    )
    return JSONResponse(accepted.model_dump(mode="json", exclude_none=True), status_code=202)


async def _wake_for_new_job(found: Services, *, by_owner: bool) -> Wake:
    """Report the queue depth, lift a manual hold (the owner's prompt only) and start the
    node if it is down. A plain user's prompt under the owner's manual hold stays queued,
    and the 202 names the hold.

    The job is queued already, so whatever fails here is reported in the 202 rather than
    as an error: an error would tell the client its prompt was lost when it was not.
    """
    try:
        # Sampled as each job joins, so the metric shows the backlog a cold start builds.
        found.metrics.count("QueueDepth", await found.queue.depth())
        if by_owner:
            await found.registry.clear_manual_hold()
        return await found.waker.ensure_awake(for_new_prompt=True)
    except Exception as exc:
        log.exception("could not wake the node for a queued job")
        message = (
            exc.caller_message if isinstance(exc, TlfifError) else "the node could not be checked"
        )
        return Wake(phase="stopped", error=message)
