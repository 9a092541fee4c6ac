"""POST /infer: queue a prompt, wake the node if it sleeps, answer 202 with the job id.

The job is queued in every case the budget allows, also while the node is stopped or AWS
refuses to start it: the queue is what carries a prompt through a cold start. `submit` is
that core, shared with the OpenAI-compatible routes (router/v1/): a /v1 call is a job too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import Services, caller, caller_is_owner, services
from router.inputs import idempotency_key, infer_request, json_body, retry_count
from tlfif.claims import Claims
from tlfif.contracts import Accepted, InferRequest, Job, now_ms
from tlfif.errors import QueueUnavailable, Throttled, TlfifError, Unsupported
from tlfif.queue import Enqueued
from tlfif.resume import Resume, forget_key, resume_for
from tlfif.throttle import BREACH_METRIC
from tlfif.wake import UP_PHASES, Wake
from tlfif.webhook_contracts import WebhookRecord
from tlfif.webhook_secrets import ensure_profile
from tlfif.webhook_targets import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    """A queued job and how waking the node went. `created` is False for a job an earlier
    try of the same request queued (ADR 0024); `created_ms` is set for a new one only."""

    id: str
    created: bool
    created_ms: int | None
    wake: Wake


async def infer(request: Request) -> Response:
    found = services(request)
    async with counted_submission(found):
        claims = await caller(request)
        body = await json_body(request)
        asked = infer_request(body)
        resume = resume_for(idempotency_key(request), retry_count(request), "/infer", body)
        live = bool(asked.stream) and found.settings.v1_stream_live
        webhook = Webhook(asked.webhook, "webhook") if asked.webhook is not None else None
        submitted = await submit(request, claims, asked, resume, stream=live, webhook=webhook)
    wake = submitted.wake
    ready = wake.phase == "ready"
    accepted = Accepted(
        status="queued" if ready else "starting",
        id=submitted.id,
        eta=found.settings.warm_eta_seconds if ready else found.settings.cold_eta_seconds,
        node_error=wake.error,
        hold="manual" if wake.held == "manual" else None,
    )
    return JSONResponse(accepted.model_dump(mode="json", exclude_none=True), status_code=202)


@asynccontextmanager
async def counted_submission(found: Services) -> AsyncIterator[None]:
    """Counts a prompt's request; a Redis failure inside, before the job was safely queued
    (the client got a 503), counts as RedisEnqueueFail too."""
    found.metrics.count("Requests")
    try:
        yield
    except QueueUnavailable:
        found.metrics.count("RedisEnqueueFail")
        raise


@dataclass(frozen=True)
class Webhook:
    """The webhook a request names, and where it named it (its body's field, a header)."""

    url: str
    field: str


async def submit(
    request: Request,
    claims: Claims,
    asked: InferRequest,
    resume: Resume,
    *,
    stream: bool = False,
    webhook: Webhook | None = None,
) -> Submitted:
    """Queue `asked` for the caller, under `resume`'s key, and wake the node. Under a budget
    hold nothing is queued (BudgetHold); past the caller's pending cap, Throttled. A
    webhook is checked first, and kept before the job is queued (ADR 0031)."""
    found = services(request)
    target = await _checked(found, webhook) if webhook is not None else None
    if resume.fresh and resume.key is not None:
        await forget_key(found.redis, claims.sub, resume.key)
    job = Job.from_request(asked, claims.sub, stream=stream)
    if target is not None:
        await _keep_webhook(found, claims.sub, job.id, target)
    try:
        enqueued = await found.queue.enqueue(job, resume.key, with_node=True)
    except Throttled:
        found.metrics.count(BREACH_METRIC)  # the per-user pending cap is a limit too
        raise
    wake = await _wake_for_new_job(found, enqueued, by_owner=caller_is_owner(request, claims))
    created_ms = job.created_ms if enqueued.created else None
    return Submitted(enqueued.id, enqueued.created, created_ms, wake)


async def _checked(found: Services, webhook: Webhook) -> Target:
    if found.webhooks is None or found.webhook_records is None or found.webhook_secrets is None:
        raise Unsupported(
            f"{webhook.field}: webhooks are not set up on this deployment", field=webhook.field
        )
    # Resolving the host blocks: in a thread, as boto3's calls are.
    return await asyncio.to_thread(found.webhooks.target, webhook.url, webhook.field)


async def _keep_webhook(found: Services, sub: str, job_id: str, target: Target) -> None:
    """The user's secret made if they have none (so the sender can sign; `tlfif
    webhook-secret show` shows it), then the webhook's record, which the sender reads when
    the reply lands: written before the job is queued, so no reply can come first."""
    assert found.webhook_secrets is not None and found.webhook_records is not None
    await ensure_profile(found.webhook_secrets, sub)
    record = WebhookRecord(url=target.url, created_ms=now_ms())
    await found.webhook_records.put_record(sub, job_id, record)


async def _wake_for_new_job(found: Services, enqueued: Enqueued, *, by_owner: bool) -> Wake:
    """Report the queue depth, lift a manual hold (the owner's prompt only) and start the
    node if it is down. A plain user's prompt under the owner's manual hold stays queued,
    and the 202 names the hold.

    The job is queued already, so whatever fails here is reported in the 202 rather than
    as an error: an error would tell the client its prompt was lost when it was not.
    """
    try:
        # Sampled as each job joins, so the metric shows the backlog a cold start builds.
        found.metrics.count("QueueDepth", enqueued.depth)
        if enqueued.followed_wake:
            found.metrics.count("WakesFollowed")  # the prompt a POST /wake foretold
        view = enqueued.node
        if by_owner and (view is None or view.hold == "manual"):
            await found.registry.clear_manual_hold()
            view = None  # read again, with the hold gone
        wake = await found.waker.ensure_awake(for_new_prompt=True, view=view)
        if view is not None and wake.phase in UP_PHASES:
            # Another node for a backlog (ADR 0032): Redis alone unless one is due.
            await found.waker.scale_out(view, enqueued.depth)
        return wake
    except Exception as exc:
        log.exception("could not wake the node for a queued job")
        message = (
            exc.caller_message if isinstance(exc, TlfifError) else "the node could not be checked"
        )
        return Wake(phase="stopped", error=message)
