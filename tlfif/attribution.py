"""Who caused which node-seconds (ADR 0034): the attribution rule as pure arithmetic.

- Boot (instance start to engine ready) goes to the first job the freshly booted node runs.
- Run time is shared: every second is divided by the number of jobs running in it.
- The idle tail (last job finished to self-stop) goes to the last job that finished.

A node's ledger is a few numbers per running job, not a log of intervals: each time the set
of running jobs changes, the time since the last change is split evenly among those running.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def cost_eur(node_seconds: float, hour_eur: float) -> float:
    """The estimated price of `node_seconds` at the node's hourly price."""
    return node_seconds * hour_eur / 3600


@dataclass(frozen=True)
class Share:
    """One job's node-seconds: its part of the run time, plus the boot if it carries it."""

    run_seconds: float
    boot_seconds: float

    @property
    def node_seconds(self) -> float:
        return self.run_seconds + self.boot_seconds


@dataclass(frozen=True)
class LastJob:
    """The job that finished last, and when: the idle tail is its to carry."""

    job_id: str
    sub: str
    finished_at: float


@dataclass
class RunLedger:
    """One node's ledger. Times are seconds on one monotonic clock, given by the caller."""

    booted_at: float
    ready_at: float | None = None
    last: LastJob | None = None
    _running: dict[str, float] = field(default_factory=dict)  # job id -> its seconds so far
    _changed_at: float = 0.0
    _boot_taken: bool = False

    def ready(self, at: float) -> None:
        """The engine answers: the boot is over."""
        if self.ready_at is None:
            self.ready_at = max(at, self.booted_at)

    @property
    def boot_seconds(self) -> float:
        return 0.0 if self.ready_at is None else self.ready_at - self.booted_at

    def start(self, job_id: str, at: float) -> None:
        """The job starts running (a second start of a running id changes nothing)."""
        if job_id in self._running:
            return
        self._advance(at)
        self._running[job_id] = 0.0

    def finish(self, job_id: str, sub: str, at: float) -> Share:
        """The job's share, once; a job not running (finished already) gets nothing."""
        if job_id not in self._running:
            return Share(0.0, 0.0)
        self._advance(at)
        run = self._running.pop(job_id)
        boot = 0.0
        if not self._boot_taken and self.ready_at is not None:
            boot, self._boot_taken = self.boot_seconds, True
        self.last = LastJob(job_id, sub, at)
        return Share(run, boot)

    def drop(self, job_id: str, at: float) -> None:
        """The job leaves without a reply of this node's (a copy answered elsewhere): its
        share goes to nobody, and it is not the last job."""
        if job_id in self._running:
            self._advance(at)
            del self._running[job_id]

    def idle_tail(self, at: float) -> float:
        """Seconds from the last job's end (or from ready, if none ran) to `at`."""
        since = self.last.finished_at if self.last is not None else self.ready_at
        return 0.0 if since is None else max(0.0, at - since)

    def unclaimed_boot(self) -> float:
        """The boot no job carried (a node woken ahead that answered nothing): the stop's."""
        return 0.0 if self._boot_taken else self.boot_seconds

    @property
    def running(self) -> int:
        return len(self._running)

    def _advance(self, at: float) -> None:
        at = max(at, self._changed_at)  # a clock read out of order never takes time back
        if self._running:
            each = (at - self._changed_at) / len(self._running)
            for job_id in self._running:
                self._running[job_id] += each
        self._changed_at = at
