"""POST /cancel/{id}: the submitter stops a job they no longer want (404 for anyone else,
as GET /result).

A queued job is answered "cancelled" here, and its id left in the pending list with its
done signal as tombstone; a running one is marked, and its node stops it between tokens and
answers "cancelled" with the text so far. Either way the answer is the one write-once reply
in S3, so a cancel racing the reply gives one answer: whichever was written first. A job
answered already is a 409 naming its reply's status.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import Services, caller, services
from router.result import lost_jobs_reply, own_job, reply_of
from tlfif.contracts import Cancelling, Owner, Reply
from tlfif.delivery import Queued, cancelled_reply, deliver
from tlfif.errors import AlreadyAnswered
from tlfif.queue import JobState
from tlfif.runtime.logs import log_audit

log = logging.getLogger(__name__)


async def cancel(request: Request) -> Response:
    claims = await caller(request)
    found = services(request)
    job_id = request.path_params["id"]
    owner = await own_job(found, claims, job_id)
    if owner is None:
        log_audit(log, "cancel", claims.sub, "answered", jobId=job_id)
        raise already_answered(await lost_jobs_reply(found, claims, job_id))
    state = await ask_cancel(found, job_id, owner)
    # Where the job was: queued (answered here), running (its node stops it), done, gone.
    log_audit(log, "cancel", claims.sub, state, jobId=job_id)
    if state == "done":
        reply = await reply_of(found, job_id, owner.reply_key)
        if reply is None:  # signalled, but its reply unreadable a moment: say it is coming
            return _cancelling(job_id)
        raise already_answered(reply)
    if state == "running":
        await found.queue.wait_done(job_id, found.settings.cancel_wait_seconds)
    reply = await reply_of(found, job_id, owner.reply_key)  # "gone": answered "expired" now
    if reply is None:
        return _cancelling(job_id)
    if reply.status != "cancelled":
        raise already_answered(reply)  # the reply landed first: it stands
    return JSONResponse(reply.model_dump(mode="json"))


async def ask_cancel(found: Services, job_id: str, owner: Owner) -> JobState:
    """Set the job's cancel mark and answer it if it is still queued; returns where it was
    (a running job's node answers it between tokens)."""
    state = await found.queue.cancel(job_id)
    if state == "queued":
        await _answer_queued(found, job_id, owner)
    return state


async def _answer_queued(found: Services, job_id: str, owner: Owner) -> None:
    """The cancelled reply of a job no node runs. A node that took it meanwhile saw the
    mark and answers the same; the write-once reply keeps whichever came first."""
    reply = cancelled_reply(job_id, owner.created_ms)
    await deliver(found.queue, found.replies, owner.reply_key, reply, Queued(owner.sub))


def already_answered(reply: Reply) -> AlreadyAnswered:
    return AlreadyAnswered(
        f'the job is answered already: its reply says "{reply.status}" '
        f"(GET /result/{reply.id} reads it)"
    )


def _cancelling(job_id: str) -> Response:
    body = Cancelling(status="cancelling", id=job_id)
    return JSONResponse(body.model_dump(mode="json"), status_code=202)
