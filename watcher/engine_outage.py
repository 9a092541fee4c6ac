"""When the engine dies: hold the node still until it is back, and count who was in it.

On the GPU node systemd restarts vLLM; locally the node agent restarts llama.cpp's server.
The watcher restarts nothing: it notices (a job's connection refused, reset or cut), says
so in its heartbeat ("engine_restarting"), stops claiming, freezes the idle timer and waits
for the engine to produce a token again. Jobs wait with it and run again once it is back,
without that counting against their ordinary retries. A job that was running in the engine
each time it died is answered "engine_crashed" after `engine_crash_limit` deaths (it may be
what kills it); until then it runs again, alone among such suspects, so one poison prompt
does not take the others with it. If the engine does not come back within the readiness
setting, `failed` is set and the node stops itself (watcher/node.py). ADR 0018.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tlfif.errors import EngineDown
from tlfif.runtime.logs import log_event
from watcher.claim_gate import ClaimGate
from watcher.engine import EngineClient
from watcher.heartbeat import HeartbeatLoop
from watcher.idle import IdleTimer

log = logging.getLogger(__name__)

# A try while the engine is not listening is a refused connection (a millisecond); once it
# listens, each try is a one-token generation. Every tenth of a second, so a cold start
# waits at most that long on this loop after the engine is up (bench: cold_start).
READY_POLL_SECONDS = 0.1


async def engine_comes_up(engine: EngineClient, timeout_seconds: float) -> bool:
    """True once the engine produces a token, False if it has not within the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while not await engine.ready():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(READY_POLL_SECONDS)
    return True


@dataclass
class JobOutages:
    """How often the engine went away while one job was in the node."""

    crashes: int = 0  # ... while it was running in the engine
    outages: int = 0  # ... at all, including while it was only trying to connect


class EngineOutage:
    """The engine's health as the node's jobs find it. One per node, shared by its jobs."""

    def __init__(
        self,
        engine: EngineClient,
        heartbeat: HeartbeatLoop,
        gate: ClaimGate,
        idle: IdleTimer,
        readiness_timeout_seconds: float,
    ) -> None:
        self.engine = engine
        self.heartbeat = heartbeat
        self.gate = gate
        self.idle = idle
        self.readiness_timeout_seconds = readiness_timeout_seconds
        self.deaths = 0  # times the engine has gone away since the node was ready
        self.failed = asyncio.Event()  # it did not come back in time: the node must stop
        self._up = asyncio.Event()
        self._up.set()
        self._jobs: dict[str, JobOutages] = {}
        self._suspects = asyncio.Lock()
        self._recovery: asyncio.Task[None] | None = None

    async def wait_up(self) -> bool:
        """Wait while the engine is down; True once it is back, False if it never will be."""
        await self._up.wait()
        return not self.failed.is_set()

    def report(self, job_id: str, error: EngineDown, seen_deaths: int) -> JobOutages:
        """A job found the engine down on a try begun when `deaths` was `seen_deaths`.

        The first report of a death starts the recovery; every report counts for its job.
        """
        if seen_deaths == self.deaths:
            self.deaths += 1
            self._up.clear()
            self._recovery = asyncio.create_task(self._recover(error), name="engine-recovery")
        record = self._jobs.setdefault(job_id, JobOutages())
        record.outages += 1
        record.crashes += int(error.while_running)
        return record

    @contextlib.asynccontextmanager
    async def turn(self, job_id: str) -> AsyncIterator[None]:
        """One try of the job in the engine; a job the engine died under runs alone among
        such suspects, so a poison prompt meets no other suspect in the engine."""
        record = self._jobs.get(job_id)
        if record is None or record.crashes == 0:
            yield
            return
        async with self._suspects:
            yield

    def forget(self, job_id: str) -> None:
        """The job is answered."""
        self._jobs.pop(job_id, None)

    async def close(self) -> None:
        if self._recovery is not None and not self._recovery.done():
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery

    async def _recover(self, error: EngineDown) -> None:
        began = time.monotonic()
        log_event(log, "engine_down", logging.ERROR, deaths=self.deaths, error=error.message)
        self.heartbeat.set_state("engine_restarting")
        self.idle.freeze()
        await self.gate.pause()
        try:
            back = await engine_comes_up(self.engine, self.readiness_timeout_seconds)
        except BaseException:
            await self.gate.resume()
            raise
        down_seconds = round(time.monotonic() - began, 1)
        if back:
            log_event(log, "engine_back", deaths=self.deaths, downSeconds=down_seconds)
            self.heartbeat.set_state("ready")
            self.idle.thaw()
            await self.gate.resume()
        else:
            # The gate stays paused: the node is about to stop for good.
            log_event(log, "engine_failed", logging.ERROR, downSeconds=down_seconds)
            self.failed.set()
        self._up.set()
