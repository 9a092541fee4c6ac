"""RouterApiDouble: the router's HTTP API in memory, behind an httpx.MockTransport.

Speaks the contract's bodies (tlfif/contracts.py) and error shape; each test scripts what
it needs: the phases a job passes through, canned failures per route, tokens to refuse.
It records every request, so tests can check headers, bodies and ?wait.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from tlfif.contracts import (
    Accepted,
    NodeInfo,
    NodePhase,
    Pending,
    Reply,
    ReplyErrorCode,
    ReplyStatus,
    Usage,
    WakeRequest,
    Woken,
)

PendingStatus = Literal["queued", "running"]
# A cold start as the router reports it: stopped -> booting -> loading -> generating, then
# the reply.
COLD_START: list[tuple[PendingStatus, NodePhase]] = [
    ("queued", "starting"),
    ("queued", "booting"),
    ("queued", "loading"),
    ("running", "ready"),
]


def error_response(
    status: int, code: str, message: str, *, retry_after: int | None = None
) -> httpx.Response:
    """An error in the router's own shape, with the headers the contract promises."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"error": {"code": code, "message": message, "field": None}}
    return httpx.Response(status, json=body, headers=headers)


def gateway_unauthorized() -> httpx.Response:
    """API Gateway's JWT authorizer answers 401 itself, in its own shape."""
    return httpx.Response(401, json={"message": "Unauthorized"})


@dataclass
class JobDouble:
    id: str
    body: dict[str, Any]
    phases: list[tuple[PendingStatus, NodePhase]]
    reply: Reply


@dataclass
class RouterApiDouble:
    phases: list[tuple[PendingStatus, NodePhase]] = field(default_factory=lambda: list(COLD_START))
    accepted_status: Literal["queued", "starting"] = "starting"
    node_error: str | None = None
    reply_status: ReplyStatus = "done"
    owner: bool = False  # GET /status: whether the caller owns the deployment
    reply_text: str = "A reply from the router double."
    reply_error: str | None = None
    reply_error_code: ReplyErrorCode | None = None
    node: NodePhase = "stopped"
    hold: Literal["manual", "budget"] | None = None
    start_error: str | None = None
    nodes: list[NodeInfo] = field(default_factory=list)  # GET /status: each node's phase
    # "METHOD /path-prefix" -> the response to give every time, instead of the real answer.
    canned: dict[str, httpx.Response] = field(default_factory=dict)
    # Bearer tokens answered with 401; `refuse_first_token` adds the first one it sees.
    refused_tokens: set[str] = field(default_factory=set)
    refuse_first_token: bool = False
    refuse_with_gateway_body: bool = False
    requests: list[httpx.Request] = field(default_factory=list)
    jobs: dict[str, JobDouble] = field(default_factory=dict)
    idempotency: dict[str, str] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        refused = self._refuse_token(request)
        if refused is not None:
            return refused
        route = f"{request.method} {request.url.path}"
        for prefix, response in self.canned.items():
            if route.startswith(prefix):
                return response
        if route == "POST /infer":
            return self._infer(request)
        if request.method == "GET" and request.url.path.startswith("/result/"):
            return self._result(request.url.path.removeprefix("/result/"))
        if request.method == "POST" and request.url.path.startswith("/cancel/"):
            return self._cancel(request.url.path.removeprefix("/cancel/"))
        if route == "POST /stop":
            self.node, self.hold = "stopping", "manual"
            return httpx.Response(200, json={"status": "stopping", "node": self.node})
        if route == "POST /wake":
            return self._wake(request)
        if route == "GET /status":
            return httpx.Response(200, json=self._status())
        return error_response(404, "not_found", "no such route")

    def sent(self, route: str) -> list[httpx.Request]:
        """The requests whose "METHOD /path" starts with `route`."""
        return [r for r in self.requests if f"{r.method} {r.url.path}".startswith(route)]

    def bearer_tokens(self, route: str) -> list[str]:
        return [r.headers["Authorization"].removeprefix("Bearer ") for r in self.sent(route)]

    def _refuse_token(self, request: httpx.Request) -> httpx.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token:
            return error_response(401, "unauthorized", "missing bearer token")
        if self.refuse_first_token:
            self.refuse_first_token = False
            self.refused_tokens.add(token)
        if token in self.refused_tokens:
            if self.refuse_with_gateway_body:
                return gateway_unauthorized()
            return error_response(401, "unauthorized", "token expired")
        return None

    def _infer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        key = request.headers.get("Idempotency-Key")
        job_id = self.idempotency.get(key) if key else None
        if job_id is None:
            job_id = str(uuid.uuid4())
            self.jobs[job_id] = JobDouble(job_id, body, list(self.phases), self._reply(job_id))
            if key:
                self.idempotency[key] = job_id
        accepted = Accepted(
            status=self.accepted_status, id=job_id, eta=90, node_error=self.node_error
        )
        return httpx.Response(202, json=accepted.model_dump(mode="json", exclude_none=True))

    def _wake(self, request: httpx.Request) -> httpx.Response:
        asked = WakeRequest.model_validate_json(request.content or b"{}")
        started = self.node == "stopped"
        if started:
            self.node = "starting"
        woken = Woken(node=self.node, idle=asked.idle, eta=90, started=started)
        return httpx.Response(200, json=woken.model_dump(mode="json", exclude_none=True))

    def _result(self, job_id: str) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None:
            return error_response(404, "not_found", "no job with this id was submitted by you")
        if job.phases:
            status, node = job.phases.pop(0)
            self.node = node
            return httpx.Response(
                202, json=Pending(status=status, id=job_id, node=node).model_dump(mode="json")
            )
        return httpx.Response(200, json=job.reply.model_dump(mode="json"))

    def _cancel(self, job_id: str) -> httpx.Response:
        """A job still in its phases is cancelled (its reply says so); one past them was
        answered already: 409, as the router says it."""
        job = self.jobs.get(job_id)
        if job is None:
            return error_response(404, "not_found", "no job with this id was submitted by you")
        if not job.phases:
            said = f'the job is answered already: its reply says "{job.reply.status}"'
            return error_response(409, "already_answered", said)
        job.phases.clear()
        job.reply = Reply(id=job_id, status="cancelled", error="cancelled by its submitter")
        return httpx.Response(200, json=job.reply.model_dump(mode="json"))

    def _reply(self, job_id: str) -> Reply:
        done = self.reply_status == "done"
        return Reply(
            id=job_id,
            status=self.reply_status,
            text=self.reply_text if done else "",
            model="gemma-3-270m" if done else None,
            usage=Usage(prompt_tokens=7, completion_tokens=12 if done else 0),
            finish_reason="stop" if done else None,
            latency_ms=1500 if done else None,
            queued_ms=30_000,
            error=self.reply_error,
            error_code=self.reply_error_code,
        )

    def _status(self) -> dict[str, Any]:
        pending = [job_id for job_id, job in self.jobs.items() if job.phases]
        start_error = None
        if self.start_error:
            start_error = {
                "kind": "start", "code": "node_start_refused", "message": self.start_error,
                "ts_ms": 1,
            }  # fmt: skip
        return {
            "node": self.node,
            "queue_depth": len(pending),
            "pending": pending,
            "hold": self.hold,
            "start_error": start_error,
            "owner": self.owner,
            "nodes": [info.model_dump(mode="json") for info in self.nodes],
        }
