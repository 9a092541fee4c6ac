"""The gate every claim passes through, so the node can stop claiming without losing a job.

A claim is a blocking BLMOVE. Cancelling one could leave an id moved into the in-flight list
with nobody to run it, so the gate never cancels: pause() waits until every claim under way
has returned (and any job it took has been started), and only then may the stop script run.
Pauses nest: the idle stopper and an engine outage may each hold the gate, and claims wait
until both have resumed it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ClaimGate:
    """Open, paused (claims wait), or closed (claims end for good)."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._pauses = 0
        self._closed = False
        self._claiming = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @asynccontextmanager
    async def claiming(self) -> AsyncIterator[bool]:
        """Wait while paused; yield False once closed, else True for one claim.

        The caller starts whatever job it took before leaving the block, so a paused gate
        means no id sits claimed but unstarted.
        """
        async with self._condition:
            await self._condition.wait_for(lambda: self._closed or not self._pauses)
            admitted = not self._closed
            self._claiming += int(admitted)
        try:
            yield admitted
        finally:
            if admitted:
                async with self._condition:
                    self._claiming -= 1
                    self._condition.notify_all()

    async def pause(self) -> None:
        """Hold new claims and return once none is under way. Pair it with resume()."""
        async with self._condition:
            self._pauses += 1
            await self._condition.wait_for(lambda: self._claiming == 0)

    async def resume(self) -> None:
        """End one pause; claims go on once every pause has ended."""
        async with self._condition:
            self._pauses = max(0, self._pauses - 1)
            self._condition.notify_all()

    async def close(self) -> None:
        """No claim starts any more; claims under way finish on their own."""
        async with self._condition:
            self._closed = True
            self._condition.notify_all()
