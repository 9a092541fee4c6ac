"""The watcher's only way to talk to its engine: OpenAI-compatible chat completions, streamed.

The same client drives vLLM on the GPU node and llama-cpp-python's server on a laptop, so it
relies only on what both send: SSE `data:` events of `chat.completion.chunk` objects, then
`data: [DONE]`. Retries belong to the watcher; this module reports each failure as EngineError.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import anyio
import httpx

from tlfif.contracts import Message, Params, Usage
from tlfif.errors import EngineDown, EngineError
from tlfif.settings import WatcherSettings

# "engine": the server sent usage (vLLM, asked with stream_options.include_usage).
# "counted": it did not (llama-cpp-python ignores stream_options), so this client counted.
UsageSource = Literal["engine", "counted"]

# finish_reason values that name a failure, not a reply: vLLM ends a request it aborted or
# could not finish with these (its _raise_if_error / abort paths).
FAILED_FINISH_REASONS = frozenset({"error", "abort"})

# The tokenize call only refines a count; it must not hold a finished reply back for long.
TOKENIZE_TIMEOUT_SECONDS = 5.0
# The warm-up that proves the engine ready: one token of a one-word prompt. Its first
# generation may still be compiling kernels or filling caches, so give it time.
WARM_UP = [Message(role="user", content="Hello")]
WARM_UP_PARAMS = Params(max_tokens=1, temperature=0.0)
WARM_UP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Completion:
    """One finished reply from the engine.

    When `usage_source` is "counted", `completion_tokens` is the number of streamed content
    deltas (both servers stream about one token per delta; a multi-byte character can take
    several) and `prompt_tokens` is llama-cpp-python's own tokenization of the message
    contents, without the few tokens its chat template adds. If the server could not tokenize,
    `prompt_tokens_known` is False and `usage.prompt_tokens` is 0: unknown, not zero.
    """

    text: str
    finish_reason: str
    model: str
    usage: Usage
    usage_source: UsageSource
    prompt_tokens_known: bool
    first_token_ms: int | None
    duration_ms: int


@dataclass
class _Stream:
    """What the chunks of one stream have said so far."""

    model: str
    parts: list[str]
    content_deltas: int = 0
    finish_reason: str | None = None
    usage: Usage | None = None
    first_token_at: float | None = None
    on_delta: Callable[[str], None] | None = None

    def feed(self, chunk: Any) -> None:
        """Take one parsed chunk. Raises EngineError for a reported error, TypeError or
        AttributeError for a chunk of the wrong shape."""
        if not isinstance(chunk, dict):
            raise TypeError("a chunk is a JSON object")
        if chunk.get("error"):
            # vLLM reports a failure inside an open stream as data: {"error": {...}}.
            raise EngineError(f"engine reported an error mid-stream: {_error_text(chunk)}")
        self.model = str(chunk.get("model") or self.model)
        if isinstance(chunk.get("usage"), dict):
            self.usage = Usage.model_validate(chunk["usage"])
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str) and content:
                # vLLM's first chunk carries role with content "": not a token.
                self.parts.append(content)
                self.content_deltas += 1
                if self.on_delta is not None:
                    self.on_delta(content)
                if self.first_token_at is None:
                    self.first_token_at = time.monotonic()
            if choice.get("finish_reason") is not None:
                self.finish_reason = str(choice["finish_reason"])


class EngineClient:
    """Chat completions against one OpenAI-compatible server (base URL ends in /v1)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str,
        timeout_seconds: float,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_seconds = timeout_seconds
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: WatcherSettings) -> EngineClient:
        return cls(
            settings.engine_url,
            settings.engine_model,
            settings.engine_api_key,
            settings.engine_timeout_seconds,
        )

    async def complete(
        self,
        messages: list[Message],
        params: Params,
        *,
        timeout: float | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        """Stream one chat completion to its end (within `timeout`, else the setting),
        handing each content delta to `on_delta` as it comes.

        Raises EngineDown when the engine is not there or the connection breaks, and
        EngineError for any other failure, including a stream that ends without a
        finish_reason.
        """
        deadline = timeout or self.timeout_seconds
        body = {
            "model": self.model,
            "messages": [m.model_dump() for m in messages],
            **params.model_dump(exclude_none=True),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        started = time.monotonic()
        stream = _Stream(model=self.model, parts=[], on_delta=on_delta)
        try:
            # One deadline for the whole reply: httpx's timeout alone is per read, and a
            # server that trickles a token every few seconds would never trip it.
            with anyio.fail_after(deadline):
                await self._stream_into(stream, body)
        except TimeoutError as exc:
            raise EngineError(f"engine gave no full reply within {deadline:g} s") from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing listens (crashed, restarting, still loading): the job never got in.
            raise EngineDown(f"engine unreachable: {exc!r}", while_running=False) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            # Reset or cut after the request went in: the engine went while on this job.
            raise EngineDown(f"engine connection broken: {exc!r}", while_running=True) from exc
        except httpx.HTTPError as exc:  # a read timeout, a body httpx could not decode
            raise EngineError(f"engine stream failed: {exc!r}") from exc
        return await self._finish(stream, messages, started)

    async def ready(self) -> bool:
        """True once the engine has produced a token (a one-token warm-up).

        Not merely once /v1/models answers: a server can list its model and still die on
        its first generation (a CPU kernel the machine cannot run, a GPU out of memory).
        """
        try:
            await self.complete(WARM_UP, WARM_UP_PARAMS, timeout=WARM_UP_TIMEOUT_SECONDS)
        except EngineError:
            return False
        return True

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _stream_into(self, stream: _Stream, body: dict[str, Any]) -> None:
        url = f"{self.base_url}/chat/completions"
        async with self._client.stream("POST", url, json=body) as response:
            if response.status_code != 200:
                await response.aread()
                raise EngineError(
                    f"engine answered HTTP {response.status_code}: {_error_text(response)}"
                )
            kind = response.headers.get("content-type", "")
            if not kind.startswith("text/event-stream"):
                raise EngineError(f"engine did not stream (content-type {kind!r})")
            async for data in _sse_data(response.aiter_lines()):
                if data == "[DONE]":
                    return
                try:
                    stream.feed(json.loads(data))
                except (ValueError, TypeError, AttributeError) as exc:  # not JSON, or bad shape
                    # The data may hold reply text, which must never reach a log.
                    raise EngineError(
                        f"engine sent malformed SSE data ({len(data)} bytes)"
                    ) from exc

    async def _finish(self, stream: _Stream, messages: list[Message], started: float) -> Completion:
        if stream.finish_reason is None:
            # llama-cpp-python with interrupt_requests=True (its default) ends a stream this
            # way when another request arrives: [DONE] with no finish_reason.
            raise EngineError("engine stream ended without a finish_reason")
        if stream.finish_reason in FAILED_FINISH_REASONS:
            raise EngineError(f"engine finished with finish_reason={stream.finish_reason!r}")
        source: UsageSource = "engine"
        usage, prompt_known = stream.usage, True
        if usage is None:
            prompt_tokens = await self._count_prompt_tokens(messages)
            prompt_known = prompt_tokens is not None
            usage = Usage(prompt_tokens=prompt_tokens or 0, completion_tokens=stream.content_deltas)
            source = "counted"
        first = stream.first_token_at
        return Completion(
            text="".join(stream.parts),
            finish_reason=stream.finish_reason,
            model=stream.model,
            usage=usage,
            usage_source=source,
            prompt_tokens_known=prompt_known,
            first_token_ms=None if first is None else int((first - started) * 1000),
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    async def _count_prompt_tokens(self, messages: list[Message]) -> int | None:
        """llama-cpp-python's POST /extras/tokenize (at the server root, not under /v1);
        None when the server has no such endpoint or does not answer in time."""
        root = self.base_url.removesuffix("/v1")
        text = "\n".join(m.content for m in messages)
        try:
            response = await self._client.post(
                f"{root}/extras/tokenize",
                json={"model": self.model, "input": text},
                timeout=TOKENIZE_TIMEOUT_SECONDS,
            )
            tokens = response.json().get("tokens") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return len(tokens) if isinstance(tokens, list) else None


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data of each unnamed SSE event (WHATWG server-sent events, simplified).

    Comment lines (sse-starlette's `: ping`) and named events are skipped; a blank line ends
    an event; several data lines join with a newline.
    """
    data: list[str] = []
    event = ""
    async for line in lines:
        if not line:
            if data and event in ("", "message"):
                yield "\n".join(data)
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
    if data and event in ("", "message"):
        yield "\n".join(data)


def _error_text(source: dict[str, Any] | httpx.Response) -> str:
    """The message of an OpenAI-style error body, or the start of whatever was sent."""
    try:
        body = source.json() if isinstance(source, httpx.Response) else source
    except ValueError:
        return source.text[:300] if isinstance(source, httpx.Response) else ""
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or error
    return str(error)[:300]
