"""A running job's cancel, looked for between tokens (POST /cancel/{id}, issue 17).

The router sets the job's cancel mark ({tlfif}:cancel:<id>). While the engine streams, the
watch looks for it at most every CHECK_SECONDS: a streamed job's token batches carry the
look in their own round trip (tlfif/tokens.py), any other job makes one of its own. Once the
mark is there, the next token stops the job: JobCancelled leaves the engine's stream, which
closes the HTTP stream, and that aborts the request in vLLM and in llama.cpp's server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from tlfif.errors import QueueUnavailable
from tlfif.queue import JobQueue
from tlfif.tokens import FLUSH_SECONDS, TokenWriter

# As often as a streamed job's text is sent: a cancel stops a job within about this much.
CHECK_SECONDS = FLUSH_SECONDS


class JobCancelled(Exception):
    """The job's submitter cancelled it mid-generation; `text` is what came before.

    Not a TlfifError: it never reaches a caller, it only carries the job out of the
    engine's stream to its "cancelled" reply."""

    def __init__(self, text: str, deltas: int) -> None:
        super().__init__("cancelled by its submitter")
        self.text = text
        self.deltas = deltas


class CancelWatch:
    """Takes an attempt's deltas (the engine client's on_delta), passes them on to the
    job's token stream if it has one, and stops the attempt once a cancel is seen."""

    def __init__(self, queue: JobQueue, job_id: str, writer: TokenWriter | None) -> None:
        self.queue = queue
        self.job_id = job_id
        self.writer = writer
        self._parts: list[str] = []
        self._asked = False
        self._looked_at = time.monotonic()
        self._look: asyncio.Task[None] | None = None

    def add(self, delta: str) -> None:
        """Take one delta; raises JobCancelled instead once the cancel mark was seen."""
        if self._asked or (self.writer is not None and self.writer.cancel_asked):
            raise JobCancelled("".join(self._parts), len(self._parts))
        self._parts.append(delta)
        if self.writer is not None:
            self.writer.add(delta)
            return
        now = time.monotonic()
        if now - self._looked_at >= CHECK_SECONDS and (self._look is None or self._look.done()):
            self._looked_at = now
            self._look = asyncio.get_running_loop().create_task(self._look_for_mark())

    async def close(self) -> None:
        """The attempt ended: a look still under way is dropped."""
        if self._look is not None and not self._look.done():
            self._look.cancel()
            await asyncio.wait([self._look])  # never raises: a cancel of our own stays ours

    async def _look_for_mark(self) -> None:
        # A failed look is no cancel: the next token looks again, the job runs on meanwhile.
        with contextlib.suppress(QueueUnavailable):
            self._asked = await self.queue.cancel_asked(self.job_id)
