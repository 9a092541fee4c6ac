"""GET /result/{id}: the reply once it exists, else where the job is; ?wait long-polls. A
reply is found in S3, the durable record, even when Redis has lost the job.

Waiting follows the contract: check for the reply, wait for the done signal, check again;
any number of waiters on one id all wake. An unknown id and another user's id get the same
404, so existence is not disclosed.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import Services, caller, services
from router.inputs import wait_seconds
from tlfif import keys
from tlfif.claims import Claims
from tlfif.contracts import NodePhase, Owner, Pending, Reply, reply_key_for
from tlfif.delivery import answer_if_expired
from tlfif.errors import JobNotFound, TlfifError

log = logging.getLogger(__name__)
NOT_FOUND = "no job with this id was submitted by you"


async def own_job(found: Services, claims: Claims, job_id: str) -> Owner | None:
    """The record of the caller's job `job_id`; None when Redis has lost it (S3 may still
    hold the caller's reply). JobNotFound (404) for what is no job id or another's job."""
    if not keys.is_job_id(job_id):
        raise JobNotFound(NOT_FOUND)
    owner = await found.queue.owner(job_id)
    if owner is not None and owner.sub != claims.sub:
        raise JobNotFound(NOT_FOUND)
    return owner


async def lost_jobs_reply(found: Services, claims: Claims, job_id: str) -> Reply:
    """The reply of the caller's job whose record Redis lost (a restart without persistence,
    a failover): S3 is the durable record, and the key names the caller, so it may only ever
    find the caller's own reply. JobNotFound (404) when there is none."""
    stored = await found.replies.get_reply(reply_key_for(claims.sub, job_id))
    if stored is None:
        raise JobNotFound(NOT_FOUND)
    return stored


async def result(request: Request) -> Response:
    claims = await caller(request)
    found = services(request)
    wait = wait_seconds(request, found.settings.max_wait_seconds)
    job_id = request.path_params["id"]
    owner = await own_job(found, claims, job_id)
    if owner is None:
        stored = await lost_jobs_reply(found, claims, job_id)
        return JSONResponse(stored.model_dump(mode="json"))
    reply = await reply_of(found, job_id, owner.reply_key)
    if reply is not None:
        return JSONResponse(reply.model_dump(mode="json"))
    phase = await _nudge_node(found)
    if wait > 0:
        # Checked again whether or not the signal came: the job may have expired meanwhile.
        await found.queue.wait_done(job_id, wait)
        reply = await reply_of(found, job_id, owner.reply_key)
        if reply is not None:
            return JSONResponse(reply.model_dump(mode="json"))
        phase = await found.waker.phase()  # up to 25 s later: the node may have come up
    state = await found.queue.state(job_id)
    pending = Pending(status="running" if state == "running" else "queued", id=job_id, node=phase)
    return JSONResponse(pending.model_dump(mode="json"), status_code=202)


async def reply_of(found: Services, job_id: str, reply_key: str) -> Reply | None:
    """The reply if the job is answered; a job that expired unanswered is answered now."""
    state = await found.queue.state(job_id)
    if state == "gone":
        await answer_if_expired(found.queue, found.replies, job_id)
    elif state != "done":
        return None
    return await found.replies.get_reply(reply_key)


async def _nudge_node(found: Services) -> NodePhase:
    """A poll of a pending job restarts a node that is down (unless held) and hands the
    jobs of a node whose heartbeat lapsed back to the queue, so no job is stranded."""
    try:
        await found.queue.requeue_orphans()
        wake = await found.waker.ensure_awake()
    except TlfifError as exc:
        # The budget hold, or a failed start: the job still waits, the poll still answers.
        log.info("poll did not wake the node", extra={"reason": exc.message})
        return await found.waker.phase()
    return wake.phase
