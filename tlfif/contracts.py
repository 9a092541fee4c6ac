"""The shapes every part shares: the job in Redis, the reply in S3, the HTTP bodies.

Router, watcher and clients import these models; nothing else defines a wire format. The
OpenAI-compatible /v1 bodies are in tlfif/openai_contracts.py, the API keys' in
tlfif/api_key_contracts.py.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tlfif.errors import InvalidInput, Unsupported

# The seed's 6 kB prompt cap, counted in UTF-8 bytes: a character count would let
# multibyte text through at up to four times the size.
MAX_CONTENT_BYTES = 6144
DEFAULT_IDLE_MINUTES = 5
# A webhook URL is kept with the request (ADR 0031); a longer one is refused at submit.
MAX_WEBHOOK_URL_CHARS = 2048
# The validation error type of a request for something not built (an Unsupported 400).
UNSUPPORTED = "unsupported"

Role = Literal["system", "user", "assistant"]
ReplyStatus = Literal["done", "error", "expired", "cancelled"]
# Why a reply says "error" (or "expired"), for clients that act on it; `error` says it in words.
#   engine_error    the engine refused the job (an HTTP error, finish_reason error) every try
#   engine_crashed  the engine died while running it, too often: the prompt may kill it
#   engine_failed   the engine did not come back, so the node stopped (a new prompt starts it)
#   watcher_failed  the watcher itself failed on the job
#   expired         no node took the job within its time to live
ReplyErrorCode = Literal[
    "engine_error", "engine_crashed", "engine_failed", "watcher_failed", "expired"
]
# The node's phase, the one word GET /status, GET /result and every client use (ADR 0018):
#   stopped            the instance is stopped; nothing runs, nothing is billed but disk
#   starting           StartInstances was sent; EC2 says pending
#   booting            EC2 says running; no watcher heartbeat yet
#   loading            the watcher beats; its engine has not produced a token yet
#   ready              the engine has produced a token: jobs are claimed
#   engine_restarting  the engine died; claims and the idle timer wait until it is back
#   stopping           the node is going down (a pending job makes the next poll restart it)
NodePhase = Literal[
    "stopped", "starting", "booting", "loading", "ready", "engine_restarting", "stopping"
]
# What a watcher's heartbeat may say: the phases only a live watcher knows.
HeartbeatState = Literal["loading", "ready", "engine_restarting", "stopping"]
# A hold keeps the node stopped: "manual" (POST /stop; the next prompt lifts it) or "budget"
# (the budget killer; only the owner lifts it).
HoldKind = Literal["manual", "budget"]
# Why the node last failed to come up: "start" (AWS refused StartInstances; polls retry) or
# "engine" (its engine never produced a token; the node stopped itself and polls and the
# scheduled check leave it stopped until the next prompt).
FailureKind = Literal["start", "engine"]
SpendOrigin = Literal["budgets", "cost_explorer"]


def now_ms() -> int:
    return int(time.time() * 1000)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


class Params(BaseModel):
    """Generation parameters passed through to the engine."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: Annotated[int, Field(ge=1, le=4096)] = 256
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    stop: list[str] | None = None


def content_bytes(messages: list[Message]) -> int:
    try:
        return sum(len(m.content.encode("utf-8")) for m in messages)
    except UnicodeEncodeError:  # a lone surrogate, e.g. JSON's "\ud800"
        raise ValueError("content is not valid UTF-8 text") from None


class InferRequest(BaseModel):
    """Body of POST /infer. `prompt` is shorthand for one user message."""

    model_config = ConfigDict(extra="forbid")

    messages: Annotated[list[Message], Field(min_length=1)] | None = None
    prompt: str | None = None
    idle: Annotated[int, Field(ge=1, le=30)] = DEFAULT_IDLE_MINUTES
    max_tokens: Annotated[int, Field(ge=1, le=4096)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    stop: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=4)] | None = None
    # Also stream the text while it is generated: GET /result/{id}/events sends it.
    stream: bool | None = None
    # The seed's LoRA hook. No adapter is built yet, so it is refused (400 unsupported)
    # rather than accepted and ignored, which would answer from the base model (ADR 0021).
    adapter_uri: str | None = None
    # Called once the reply lands (ADR 0031): an https URL to a public host.
    webhook: Annotated[str, Field(min_length=1, max_length=MAX_WEBHOOK_URL_CHARS)] | None = None

    @field_validator("adapter_uri")
    @classmethod
    def _no_adapters_yet(cls, value: str | None) -> str | None:
        if value is not None:
            raise PydanticCustomError(
                UNSUPPORTED, "LoRA adapters are not supported yet; leave adapter_uri out"
            )
        return value

    @model_validator(mode="after")
    def _one_of_prompt_or_messages(self) -> InferRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give either 'prompt' or 'messages', not both or neither")
        if self.prompt is not None and not self.prompt.strip():
            raise ValueError("'prompt' is empty")
        size = content_bytes(self.chat())
        if size > MAX_CONTENT_BYTES:
            raise ValueError(
                f"content is {size} UTF-8 bytes; at most {MAX_CONTENT_BYTES} are accepted"
            )
        return self

    def chat(self) -> list[Message]:
        if self.messages is not None:
            return self.messages
        return [Message(role="user", content=self.prompt or "")]

    def params(self) -> Params:
        given: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": self.stop,
        }
        return Params(**{k: v for k, v in given.items() if v is not None})


def invalid_input(exc: ValidationError, body: Any) -> InvalidInput:
    """A body's first validation failure, naming its field as a dotted path
    ("messages.0.content"): the one wording of each rule, for the router's 400 and the CLI.

    A failure of the whole model (both or neither of prompt and messages, content over the
    byte cap) has no location of its own; it is pinned on whichever of the two was given.
    """
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or _content_field(body)
    message = str(first["msg"]).removeprefix("Value error, ")
    error_class = Unsupported if first["type"] == UNSUPPORTED else InvalidInput
    return error_class(f"{field}: {message}" if field else message, field=field)


def _content_field(body: Any) -> str | None:
    given = [name for name in ("prompt", "messages") if isinstance(body, dict) and name in body]
    return given[0] if len(given) == 1 else None


def reply_key_for(sub: str, job_id: str) -> str:
    return f"replies/{sub}/{job_id}.json"


class Job(BaseModel):
    """What waits in Redis under {tlfif}:job:<id> (TTL 300 s)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    sub: str
    messages: list[Message]
    idle: Annotated[int, Field(ge=1, le=30)] = DEFAULT_IDLE_MINUTES
    params: Params = Field(default_factory=Params)
    reply_key: str
    created_ms: int
    # Never set now (InferRequest refuses adapter_uri); kept so jobs queued by 0.6 still read.
    adapter_uri: str | None = None
    # Its text is also streamed while generated (tlfif/tokens.py), for a streaming reader.
    stream: bool = False

    @classmethod
    def from_request(cls, request: InferRequest, sub: str, *, stream: bool = False) -> Job:
        job_id = str(uuid.uuid4())
        return cls(
            id=job_id,
            sub=sub,
            messages=request.chat(),
            idle=request.idle,
            params=request.params(),
            reply_key=reply_key_for(sub, job_id),
            created_ms=now_ms(),
            stream=stream,
        )


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Reply(BaseModel):
    """What lands in S3 under replies/<sub>/<id>.json. Every job gets exactly one."""

    id: str
    status: ReplyStatus
    text: str = ""
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    latency_ms: int | None = None
    queued_ms: int | None = None
    finished_ms: int = Field(default_factory=now_ms)
    error: str | None = None
    error_code: ReplyErrorCode | None = None


class Owner(BaseModel):
    """Kept a day under {tlfif}:owner:<id>: who may read the reply and where it lands."""

    sub: str
    reply_key: str
    created_ms: int


class Accepted(BaseModel):
    """202 body of POST /infer. `hold` names the owner's manual hold when it keeps the node
    stopped: the job is queued, and waits for the owner (or its time to live)."""

    status: Literal["queued", "starting"]
    id: str
    eta: int
    node_error: str | None = None
    hold: Literal["manual"] | None = None


class Cancelling(BaseModel):
    """202 body of POST /cancel/{id} for a running job whose node has not answered yet: it
    stops at its next tokens, and its reply says "cancelled" with the text so far."""

    status: Literal["cancelling"]
    id: str


class Pending(BaseModel):
    """202 body of GET /result/{id} while the job waits or runs."""

    status: Literal["queued", "running"]
    id: str
    node: NodePhase


class NodeFailure(BaseModel):
    """Kept an hour under {tlfif}:start_error: the node's last failure to come up."""

    # Bodies written before 0.6.0 carry only message and ts_ms: they were start failures.
    kind: FailureKind = "start"
    code: str = "node_start_refused"
    message: str
    ts_ms: int


class NodeInfo(BaseModel):
    """One node in GET /status: its instance id, its phase, and the jobs it runs now (from
    its heartbeat; 0 without one)."""

    model_config = ConfigDict(extra="ignore")

    node: str
    phase: NodePhase
    active: int = 0


class NodeStatus(BaseModel):
    """200 body of GET /status. `node` is the fleet's one word; `nodes` each node's."""

    # A newer router may say more; an older client still reads what it knows.
    model_config = ConfigDict(extra="ignore")

    node: NodePhase
    queue_depth: int
    pending: list[str]
    hold: HoldKind | None = None
    start_error: NodeFailure | None = None
    # Whether the caller owns the deployment (ADR 0021): the chat page shows Stop GPU then.
    owner: bool = False
    # Every node EC2 or a heartbeat told of, by id (ADR 0032); [] from an older router.
    nodes: list[NodeInfo] = []


class Stopping(BaseModel):
    """200 body of POST /stop."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["stopping"]
    node: NodePhase


class WakeRequest(BaseModel):
    """Body of POST /wake (an empty body is {}): the idle minutes that apply if no prompt
    comes, as a job's `idle` (ADR 0029)."""

    model_config = ConfigDict(extra="forbid")

    idle: Annotated[int, Field(ge=1, le=30)] = DEFAULT_IDLE_MINUTES


class Woken(BaseModel):
    """200 body of POST /wake: the node's phase after the wake, the idle minutes that now
    apply, and, as in POST /infer's 202, why the node could not be started."""

    model_config = ConfigDict(extra="ignore")

    node: NodePhase
    idle: int
    eta: int
    started: bool = False  # this wake sent StartInstances
    node_error: str | None = None


class WakeNote(BaseModel):
    """Kept under {tlfif}:wake while a wake is of use (boot + its idle minutes): the
    watcher's idle timer applies its minutes once, as it does a finished job's."""

    idle: Annotated[int, Field(ge=1, le=30)]
    ts_ms: int


class BudgetResumed(BaseModel):
    """200 body of POST /budget/resume."""

    model_config = ConfigDict(extra="ignore")

    lifted: bool
    hold: HoldKind | None = None


class BilledView(BaseModel):
    """Month-to-date spend as AWS billed it when last read (GET /cost)."""

    eur: float
    usd: float
    usd_to_eur: float
    source: SpendOrigin
    month: str
    as_of_ms: int
    age_seconds: int


class EstimateView(BaseModel):
    """The billed figure plus the node's running time since, at its hourly price."""

    eur: float
    running_seconds: int  # since the billed figure (or the first of the month)
    node_hourly_usd: float
    as_of_ms: int  # when the node's running state was last known
    age_seconds: int


class CostView(BaseModel):
    """200 body of GET /cost; both null until the cost publisher has stored a figure."""

    billed: BilledView | None
    estimate: EstimateView | None


RedisState = Literal["ok", "slow", "error"]


class QueueHealth(BaseModel):
    """200/503 body of GET /queue-health (and the queue_health Lambda's answer); serialised
    with `by_alias=True`: {"redis", "latencyMs", "reason"}."""

    model_config = ConfigDict(populate_by_name=True)

    redis: RedisState
    latency_ms: float = Field(serialization_alias="latencyMs")
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.redis == "ok"


class Ping(BaseModel):
    """200 body of GET /ping."""

    status: Literal["ok"] = "ok"


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
