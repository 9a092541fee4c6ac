"""What a Lambda keeps between warm invocations: one event loop and the clients built on it.

redis.asyncio binds its connections to the loop that opened them, so `asyncio.run` per
invocation would throw the pool away (or break it) each time. One loop for the life of the
execution environment keeps the connection open across warm invocations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Built = TypeVar("Built")


class Warm(Generic[Built]):
    """Builds `Built` once, on first use, and runs coroutines on one long-lived loop."""

    def __init__(self, build: Callable[[], Built]) -> None:
        self._build = build
        self._built: Built | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> Built:
        if self._built is None:
            self._built = self._build()
        return self._built

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(work)

    def reset(self) -> None:
        """Forget what was built and close the loop (tests; a Lambda never needs it)."""
        if self._loop is not None and not self._loop.is_closed():
            aclose = getattr(self._built, "aclose", None)
            if aclose is not None:
                self._loop.run_until_complete(aclose())
            self._loop.close()
        self._built = None
        self._loop = None
