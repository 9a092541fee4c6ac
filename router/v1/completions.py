"""POST /v1/chat/completions and POST /v1/completions, not streamed.

A /v1 call is a job: queued by POST /infer's own `submit` (the same budget hold, pending
cap and throttles), the node woken if it sleeps. The router then holds the request while
the reply comes, up to RouterSettings.v1_wait_seconds, waiting as GET /result?wait does.
No reply by then: 503 with Retry-After, the time the node likely still needs, and the
client's own retry resumes the same job (ADR 0024).
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from router.deps import Services, caller, services
from router.infer import Submitted, Webhook, counted_submission, submit
from router.inputs import idempotency_key, json_body, retry_count
from router.result import reply_of
from router.v1.errors import FAILURE_WORDS
from router.v1.stream import streamed, whole
from tlfif.contracts import Reply, invalid_input, now_ms, reply_key_for
from tlfif.errors import ModelNotFound, NodeHeld, ReplyFailed, ReplyPending
from tlfif.openai_contracts import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    CompletionRequest,
    TextCompletion,
    TextCompletionChunk,
)
from tlfif.resume import resume_for
from tlfif.wake import seconds_until_ready
from tlfif.webhook_contracts import WEBHOOK_HEADER_FIELD, WEBHOOK_REQUEST_HEADER

# The official openai client honours a Retry-After of up to 120 s and does not retry at
# all past it (openai/_constants.py, MAX_RETRY_AFTER_DELAY).
MAX_RETRY_AFTER_SECONDS = 120

V1Request = ChatCompletionRequest | CompletionRequest
Shapes = (
    tuple[type[ChatCompletion], type[ChatCompletionChunk]]
    | tuple[type[TextCompletion], type[TextCompletionChunk]]
)


async def chat_completions(request: Request) -> Response:
    shapes: Shapes = (ChatCompletion, ChatCompletionChunk)
    return await _complete(request, "/v1/chat/completions", ChatCompletionRequest, shapes)


async def completions(request: Request) -> Response:
    shapes: Shapes = (TextCompletion, TextCompletionChunk)
    return await _complete(request, "/v1/completions", CompletionRequest, shapes)


async def _complete(
    request: Request,
    route: str,
    kind: type[V1Request],
    shapes: Shapes,
) -> Response:
    started = time.monotonic()
    found = services(request)
    async with counted_submission(found):
        claims = await caller(request)
        body = await json_body(request)
        asked = _parse(kind, body)
        _check_model(asked.model, found.settings.served_model)
        resume = resume_for(idempotency_key(request), retry_count(request), route, body)
        live = bool(asked.stream) and found.settings.v1_stream_live
        submitted = await submit(
            request, claims, asked.infer_request(body), resume, stream=live,
            webhook=_webhook(request),
        )  # fmt: skip
    reply_key = reply_key_for(claims.sub, submitted.id)
    include_usage = bool(asked.stream_options and asked.stream_options.include_usage)
    if live:
        _refuse_held(submitted)
        created_ms = submitted.created_ms or await _created_ms(found, submitted.id)
        return await streamed(
            found,
            submitted.id,
            reply_key,
            chunk=shapes[1],
            created=created_ms // 1000,
            include_usage=include_usage,
            until=started + found.settings.v1_stream_seconds,
        )
    reply = await _reply_within(
        found, submitted, reply_key, started + found.settings.v1_wait_seconds
    )
    created_ms = submitted.created_ms or await _created_ms(found, submitted.id)
    if reply is None:
        raise await _still_pending(found, submitted, created_ms)
    if reply.status != "done":
        code = reply.error_code or reply.status
        raise ReplyFailed(
            FAILURE_WORDS.get(code, "this request failed"),
            code=code,
            status=504 if code == "expired" else 502,
        )
    model, created = found.settings.served_model, created_ms // 1000
    if asked.stream:
        # A transport that cannot stream (Lambda behind API Gateway): the events at once.
        return whole(
            reply, chunk=shapes[1], created=created, model=model, include_usage=include_usage
        )
    answer = shapes[0].of(reply, created=created, model=model)
    return JSONResponse(answer.model_dump(mode="json"))


def _parse(kind: type[V1Request], body: dict[str, Any]) -> V1Request:
    try:
        return kind.model_validate(body)
    except ValidationError as exc:
        raise invalid_input(exc, body) from None


def _webhook(request: Request) -> Webhook | None:
    """A /v1 body is OpenAI's: the webhook comes in a header of ours (ADR 0031)."""
    given = request.headers.get(WEBHOOK_REQUEST_HEADER)
    return Webhook(given, WEBHOOK_HEADER_FIELD) if given is not None else None


def _check_model(asked: str, served: str) -> None:
    if asked != served:
        raise ModelNotFound(
            f"the model {asked!r} does not exist here; this server serves {served!r} "
            "(GET /v1/models)",
            field="model",
        )


async def _reply_within(
    found: Services, submitted: Submitted, reply_key: str, deadline: float
) -> Reply | None:
    """The reply, waited for until `deadline` (time.monotonic()); None if it did not come.

    Checked, waited for, checked again (the job may have expired meanwhile), as GET
    /result?wait does. Under the owner's manual hold nothing would come: NodeHeld at once.
    """
    if not submitted.created:
        # A retry is this request's poll: as GET /result does, jobs of a node whose
        # heartbeat lapsed go back to the queue.
        await found.queue.requeue_orphans()
    reply = await reply_of(found, submitted.id, reply_key)
    if reply is not None:
        return reply
    _refuse_held(submitted)
    remaining = deadline - time.monotonic()
    if remaining > 0:
        await found.queue.wait_done(submitted.id, remaining)
    return await reply_of(found, submitted.id, reply_key)


def _refuse_held(submitted: Submitted) -> None:
    """Under the owner's manual hold nothing would come: NodeHeld at once."""
    if submitted.wake.held == "manual":
        raise NodeHeld(
            "the owner has stopped the node: your request is queued and is answered once "
            "the owner starts it again"
        )


async def _created_ms(found: Services, job_id: str) -> int:
    """When a resumed job was queued (its owner record keeps it a day)."""
    owner = await found.queue.owner(job_id)
    return owner.created_ms if owner is not None else now_ms()


async def _still_pending(found: Services, submitted: Submitted, created_ms: int) -> ReplyPending:
    phase = await found.waker.phase()
    waited = max(0.0, (now_ms() - created_ms) / 1000)
    settings = found.settings
    estimate = seconds_until_ready(
        phase, waited, cold_eta=settings.cold_eta_seconds, warm_eta=settings.warm_eta_seconds
    )
    retry_after = min(MAX_RETRY_AFTER_SECONDS, max(1, estimate))
    if phase == "ready":
        what = "the reply is still being generated"
    else:
        what = f"the model is starting (the node is {phase.replace('_', ' ')})"
    if submitted.wake.error:
        what += f"; {submitted.wake.error}"
    return ReplyPending(
        f"{what}: your request is queued; send it again in {retry_after} s to get its "
        "answer (the OpenAI SDKs do so by themselves)",
        retry_after=retry_after,
    )
