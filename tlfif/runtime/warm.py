"""What a Lambda keeps between warm invocations: one event loop, and what was built on it.

redis.asyncio binds its connections to the loop that opened them, so `asyncio.run` per
invocation would throw the pool away (or break it) each time. One loop for the life of the
execution environment keeps the connection open across warm invocations. Every Lambda
holds its loop here: the guard handlers through Warm, the router (whose Mangum adapter runs
on asyncio's current loop) through WarmLoop.make_current.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Built = TypeVar("Built")


class WarmLoop:
    """One event loop for the life of the execution environment, made on first use."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop().run_until_complete(work)

    def make_current(self) -> None:
        """For code that runs on asyncio's current loop (Mangum): set it again before each
        invocation, since anything else in the process may have changed it (tests do)."""
        asyncio.set_event_loop(self.loop())

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        self._loop = None


class Warm(Generic[Built]):
    """Builds `Built` once, on first use, and runs coroutines on one long-lived loop."""

    def __init__(self, build: Callable[[], Built]) -> None:
        self._build = build
        self._built: Built | None = None
        self._loop = WarmLoop()

    def get(self) -> Built:
        if self._built is None:
            self._built = self._build()
        return self._built

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(work)

    def reset(self) -> None:
        """Forget what was built and close the loop (tests; a Lambda never needs it)."""
        aclose = getattr(self._built, "aclose", None)
        if aclose is not None:
            self._loop.run(aclose())
        self._loop.close()
        self._built = None
