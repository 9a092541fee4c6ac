"""The bodies of the OpenAI-compatible /v1 routes, as OpenAI shapes them, and how each maps
onto TL-FIF's own (an InferRequest in, a Reply out).

Unknown fields are ignored on /v1 alone, as OpenAI's API ignores them (ADR 0024): SDKs and
tools send fields of newer API versions, and a strict 400 would break them. A known field
asking for what TL-FIF does not do (n > 1, tools, images, logprobs, ...) is refused with a
400 naming it, never silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from tlfif.contracts import (
    DEFAULT_IDLE_MINUTES,
    UNSUPPORTED,
    InferRequest,
    Message,
    Reply,
    invalid_input,
)

# The finish reasons OpenAI's clients know; an engine's own word (vLLM's "abort") reads as stop.
FINISH_REASONS = frozenset({"stop", "length", "content_filter", "tool_calls", "function_call"})
# OpenAI's default for the legacy completions route (and vLLM's).
COMPLETIONS_DEFAULT_MAX_TOKENS = 16
MAX_STOP_SEQUENCES = 4  # OpenAI's limit
OWNED_BY = "tl-fif"

MaxTokens = Annotated[int, Field(ge=1, le=4096)]
T = TypeVar("T")


def _unsupported(message: str) -> PydanticCustomError:
    return PydanticCustomError(UNSUPPORTED, message)


def _refuse_set(value: T, what: str) -> T:
    """Refuse a field that asks for something (any value but null, false, 0 or empty)."""
    if value not in (None, False, 0, "", [], {}):
        raise _unsupported(f"{what} are not supported; leave this field out")
    return value


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class _V1Request(BaseModel):
    """What POST /v1/chat/completions and /v1/completions share."""

    model_config = ConfigDict(extra="ignore")

    model: Annotated[str, Field(min_length=1)]
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    stop: list[Annotated[str, Field(min_length=1)]] | None = None
    n: Annotated[int, Field(ge=1)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, Any] | None = None
    seed: int | None = None
    # TL-FIF's own (the openai client's extra_body): minutes the node stays up after it.
    idle: Annotated[int, Field(ge=1, le=30)] = DEFAULT_IDLE_MINUTES

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop_is_a_list(cls, value: Any) -> Any:
        value = [value] if isinstance(value, str) else value
        if isinstance(value, list) and len(value) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int | None) -> int | None:
        if value is not None and value > 1:
            raise _unsupported("one choice per request (n = 1); send n > 1 as separate requests")
        return value

    @field_validator("presence_penalty", "frequency_penalty")
    @classmethod
    def _no_penalties(cls, value: float | None) -> float | None:
        return _refuse_set(value, "presence and frequency penalties")

    @field_validator("logit_bias")
    @classmethod
    def _no_logit_bias(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _refuse_set(value, "logit biases")

    @field_validator("seed")
    @classmethod
    def _no_seed(cls, value: int | None) -> int | None:
        if value is not None:
            raise _unsupported("seeded sampling is not supported; leave seed out")
        return value

    def _infer_request(self, given: dict[str, Any], original: Any) -> InferRequest:
        """Our InferRequest, validated once more: the content byte cap lives there."""
        given |= {"temperature": self.temperature, "top_p": self.top_p, "stop": self.stop}
        body = {name: value for name, value in given.items() if value is not None}
        body["idle"] = self.idle
        try:
            return InferRequest.model_validate(body)
        except ValidationError as exc:
            raise invalid_input(exc, original) from None


def _text_of(content: Any) -> Any:
    """A message's content: a string, or OpenAI's list of parts of which only text is read."""
    if not isinstance(content, list):
        return content
    texts = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise _unsupported(
                f"content part {index} is {kind or 'not a text part'}: only text parts are "
                "supported (no images, audio or files)"
            )
        texts.append(part["text"])
    return "".join(texts)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    # Before content, so an assistant's tool call (with no content) is named for what it is.
    tool_calls: list[Any] | None = None
    function_call: Any = None
    content: str

    @field_validator("role")
    @classmethod
    def _no_tool_results(cls, value: str) -> str:
        if value in ("tool", "function"):
            raise _unsupported(f"{value} messages are not supported: tools are not")
        return value

    @field_validator("content", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        return _text_of(value)

    @field_validator("tool_calls", "function_call")
    @classmethod
    def _no_calls(cls, value: Any) -> Any:
        return _refuse_set(value, "tool and function calls")

    def ours(self) -> Message:
        # OpenAI's "developer" role is its newer name for the system prompt.
        role = "system" if self.role == "developer" else self.role
        return Message(role=role, content=self.content)


class ChatCompletionRequest(_V1Request):
    """Body of POST /v1/chat/completions."""

    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    max_tokens: MaxTokens | None = None
    # OpenAI's newer name for max_tokens; it wins where both are given.
    max_completion_tokens: MaxTokens | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    tool_choice: Any = None
    function_call: Any = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: dict[str, Any] | None = None
    modalities: list[str] | None = None
    audio: Any = None

    @field_validator("tools", "functions")
    @classmethod
    def _no_tools(cls, value: list[Any] | None) -> list[Any] | None:
        return _refuse_set(value, "tools and functions")

    @field_validator("tool_choice", "function_call")
    @classmethod
    def _no_tool_choice(cls, value: Any) -> Any:
        if value not in (None, "none"):
            raise _unsupported("tools are not supported; leave this field out")
        return value

    @field_validator("logprobs", "top_logprobs")
    @classmethod
    def _no_logprobs(cls, value: Any) -> Any:
        if value:
            raise _unsupported("log probabilities are not supported; leave this field out")
        return value

    @field_validator("response_format")
    @classmethod
    def _text_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") != "text":
            raise _unsupported("only the text response format is supported")
        return value

    @field_validator("modalities")
    @classmethod
    def _text_modality(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and set(value) - {"text"}:
            raise _unsupported("only text output is supported")
        return value

    @field_validator("audio")
    @classmethod
    def _no_audio(cls, value: Any) -> Any:
        return _refuse_set(value, "audio outputs")

    def infer_request(self, original: Any) -> InferRequest:
        messages = [message.ours().model_dump() for message in self.messages]
        max_tokens = self.max_completion_tokens or self.max_tokens
        return self._infer_request({"messages": messages, "max_tokens": max_tokens}, original)


class CompletionRequest(_V1Request):
    """Body of POST /v1/completions. The prompt runs as one user message: the node's one
    engine protocol is chat completions (ADR 0024)."""

    prompt: str
    max_tokens: MaxTokens = COMPLETIONS_DEFAULT_MAX_TOKENS
    logprobs: int | None = None
    echo: bool | None = None
    best_of: int | None = None
    suffix: str | None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _one_prompt(cls, value: Any) -> Any:
        if isinstance(value, list):
            if len(value) != 1 or not isinstance(value[0], str):
                raise _unsupported("one text prompt per request (no batches, no token arrays)")
            return value[0]
        return value

    @field_validator("logprobs")
    @classmethod
    def _no_logprobs(cls, value: int | None) -> int | None:
        if value is not None:
            raise _unsupported("log probabilities are not supported; leave logprobs out")
        return value

    @field_validator("echo")
    @classmethod
    def _no_echo(cls, value: bool | None) -> bool | None:
        return _refuse_set(value, "echoed prompts")

    @field_validator("best_of")
    @classmethod
    def _one_best(cls, value: int | None) -> int | None:
        if value is not None and value > 1:
            raise _unsupported("best_of > 1 is not supported")
        return value

    @field_validator("suffix")
    @classmethod
    def _no_suffix(cls, value: str | None) -> str | None:
        return _refuse_set(value, "suffixes (insertion)")

    def infer_request(self, original: Any) -> InferRequest:
        return self._infer_request({"prompt": self.prompt, "max_tokens": self.max_tokens}, original)


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, reply: Reply) -> CompletionUsage:
        used = reply.usage
        total = used.prompt_tokens + used.completion_tokens
        return cls(
            prompt_tokens=used.prompt_tokens,
            completion_tokens=used.completion_tokens,
            total_tokens=total,
        )


def finish_reason_of(reply: Reply) -> str:
    return reply.finish_reason if reply.finish_reason in FINISH_REASONS else "stop"


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletion(BaseModel):
    """200 body of POST /v1/chat/completions. The id is the job's, so every try of one
    request (ADR 0024) answers the same id."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: CompletionUsage
    system_fingerprint: None = None

    @classmethod
    def of(cls, reply: Reply, *, created: int, model: str) -> ChatCompletion:
        choice = ChatChoice(
            message=AssistantMessage(content=reply.text), finish_reason=finish_reason_of(reply)
        )
        return cls(
            id=f"chatcmpl-{reply.id}",
            created=created,
            model=reply.model or model,
            choices=[choice],
            usage=CompletionUsage.of(reply),
        )


class CompletionChoice(BaseModel):
    index: int = 0
    text: str
    finish_reason: str
    logprobs: None = None


class TextCompletion(BaseModel):
    """200 body of POST /v1/completions."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage
    system_fingerprint: None = None

    @classmethod
    def of(cls, reply: Reply, *, created: int, model: str) -> TextCompletion:
        choice = CompletionChoice(text=reply.text, finish_reason=finish_reason_of(reply))
        return cls(
            id=f"cmpl-{reply.id}",
            created=created,
            model=reply.model or model,
            choices=[choice],
            usage=CompletionUsage.of(reply),
        )


class ChatDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatChunkChoice(BaseModel):
    index: int = 0
    delta: ChatDelta
    finish_reason: str | None = None
    logprobs: None = None


class CompletionChunkChoice(BaseModel):
    index: int = 0
    text: str
    finish_reason: str | None = None
    logprobs: None = None


class _Chunk(BaseModel):
    """What every event of a streamed /v1 answer carries; its choices are the route's."""

    id_prefix: ClassVar[str]

    id: str
    created: int
    model: str
    usage: CompletionUsage | None = None
    system_fingerprint: None = None

    @classmethod
    def piece(cls, job_id: str, *, created: int, model: str, text: str) -> Self:
        return cls._of(job_id, created, model, [cls._text(text)])

    @classmethod
    def last(cls, reply: Reply, *, created: int, model: str) -> Self:
        return cls._of(reply.id, created, model, [cls._finish(finish_reason_of(reply))])

    @classmethod
    def usage_of(cls, reply: Reply, *, created: int, model: str) -> Self:
        return cls._of(reply.id, created, model, [], CompletionUsage.of(reply))

    @classmethod
    def _of(
        cls, job_id: str, created: int, model: str, choices: list[Any], usage: Any = None
    ) -> Self:
        return cls(
            id=f"{cls.id_prefix}-{job_id}",
            created=created,
            model=model,
            choices=choices,
            usage=usage,
        )

    @classmethod
    def _text(cls, text: str) -> Any:
        raise NotImplementedError

    @classmethod
    def _finish(cls, reason: str) -> Any:
        raise NotImplementedError


class ChatCompletionChunk(_Chunk):
    """One server-sent event of a streamed POST /v1/chat/completions; the first carries the
    role (and no text), as OpenAI's does."""

    id_prefix = "chatcmpl"
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    choices: list[ChatChunkChoice]

    @classmethod
    def _text(cls, text: str) -> ChatChunkChoice:
        delta = ChatDelta(content=text) if text else ChatDelta(role="assistant", content="")
        return ChatChunkChoice(delta=delta)

    @classmethod
    def _finish(cls, reason: str) -> ChatChunkChoice:
        return ChatChunkChoice(delta=ChatDelta(), finish_reason=reason)


class TextCompletionChunk(_Chunk):
    """One server-sent event of a streamed POST /v1/completions (OpenAI reuses the
    text_completion object for its chunks)."""

    id_prefix = "cmpl"
    object: Literal["text_completion"] = "text_completion"
    choices: list[CompletionChunkChoice]

    @classmethod
    def _text(cls, text: str) -> CompletionChunkChoice:
        return CompletionChunkChoice(text=text)

    @classmethod
    def _finish(cls, reason: str) -> CompletionChunkChoice:
        return CompletionChunkChoice(text="", finish_reason=reason)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = OWNED_BY


class ModelList(BaseModel):
    """200 body of GET /v1/models: the one model the node serves."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    """Every error on /v1, as OpenAI's API shapes it."""

    error: OpenAIErrorDetail
