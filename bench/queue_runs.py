"""One round of one queue system: enqueue N jobs with no worker running, start the worker
and let it drain them, then time jobs one at a time on the now idle worker.

The worker is a child process in its own session; its reports (bench/peers/protocol.py)
come off its stdout, everything else it prints goes to its log file, and the start of each
timed job to its pickup log.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.peers.protocol import PICKUP_LOG_ENV, PREFIX
from bench.queue_redis import BenchRedis, per_job
from bench.queue_systems import ROOT, System, child_env
from bench.report import spread

STOP_TIMEOUT_SECONDS = 15.0
# Generous: a run that takes longer has hung, and says so instead of holding the bench.
BASE_TIMEOUT_SECONDS = 60.0
SECONDS_PER_JOB_ALLOWED = 0.05


class RunFailed(RuntimeError):
    """A system's script failed or hung; the message names it and its log."""


def allowed_seconds(jobs: int) -> float:
    return BASE_TIMEOUT_SECONDS + jobs * SECONDS_PER_JOB_ALLOWED


def parse_reports(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line.removeprefix(PREFIX)) for line in lines if line.startswith(PREFIX)]


class WorkerProcess:
    """A system's worker until stop(): its reports queued as they arrive."""

    def __init__(self, command: list[str], log: IO[str], env: dict[str, str] | None = None) -> None:
        self.log = log
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env() | (env or {}), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
        )  # fmt: skip
        self.reports: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(PREFIX):
                self.reports.put(json.loads(line.removeprefix(PREFIX)))
            else:
                self.log.write(line)

    def wait_for(self, kind: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = self.reports.get(timeout=0.05)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RunFailed(f"worker exited {self.process.returncode}") from None
                continue
            if found["kind"] == kind:
                return found
        raise RunFailed(f"worker sent no {kind!r} within {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM (each worker shuts down its own way), SIGKILL if it does not."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._reader.join(STOP_TIMEOUT_SECONDS)


def submit(command: list[str], kind: str, jobs: int, log: IO[str]) -> dict[str, Any]:
    """Run a submitter to its end and return its `kind` report."""
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=child_env(), capture_output=True, text=True,
            timeout=allowed_seconds(jobs),
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise RunFailed(f"{kind}: no end within {exc.timeout:.0f} s") from None
    log.write(done.stdout + done.stderr)
    reports = [r for r in parse_reports(done.stdout.splitlines()) if r["kind"] == kind]
    if done.returncode != 0 or not reports:
        tail = "\n".join(done.stderr.splitlines()[-5:])
        raise RunFailed(f"{kind}: exited {done.returncode}:\n{tail}")
    return reports[0]


def versions(system: System) -> dict[str, Any]:
    """The Python and package versions in the system's own interpreter."""
    done = subprocess.run(
        system.command("versions", "redis://unused"),
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    found = parse_reports(done.stdout.splitlines())
    if done.returncode != 0 or not found:
        raise RunFailed(f"versions: exited {done.returncode}: {done.stderr[-300:]}")
    return {key: value for key, value in found[0].items() if key != "kind"}


def pickup_ms(enqueued_ns: list[int | None], started_log: str) -> list[float]:
    """Per timed job, milliseconds from its enqueue call returning to its job function
    starting (the first start, should a system run one twice). Below zero when the worker
    started it before the submitter's call had returned: the job was visible to the worker
    before the call's own reply had reached the submitter and been dealt with."""
    started: dict[int, int] = {}
    for line in started_log.splitlines():
        index, _, ns = line.partition(" ")
        started.setdefault(int(index), int(ns))
    return [
        (started[index] - returned) / 1e6
        for index, returned in enumerate(enqueued_ns)
        if returned is not None and index in started
    ]


@dataclass
class Drained:
    """A backlog of N jobs queued and drained; the worker still running, now idle."""

    worker: WorkerProcess
    figures: dict[str, Any]


def queue_and_drain(
    system: System, server: BenchRedis, jobs: int, log: IO[str], pickup_log: Path | None = None
) -> Drained:
    """N jobs queued with no worker running, then the worker started and timed from its
    first job to its N-th. The caller stops the worker; raises RunFailed."""
    server.flush()
    start = server.counters()
    enqueued = submit(system.command("enqueue", server.url, jobs), "enqueued", jobs, log)
    env = {PICKUP_LOG_ENV: str(pickup_log)} if pickup_log else {}
    worker = WorkerProcess(system.command("work", server.url, jobs), log, env)
    try:
        drained = worker.wait_for("drained", allowed_seconds(jobs))
        after_drain = server.counters()
    except BaseException:
        worker.stop()
        raise
    return Drained(
        worker,
        {
            "enqueue_seconds": round(enqueued["seconds"], 3),
            "drain_seconds": round(drained["seconds"], 4),
            # From the first job's start to the N-th's: N - 1 intervals.
            "drain_jobs_per_second": round((jobs - 1) / drained["seconds"], 1),
            "per_job_enqueue_to_drained": per_job(start, after_drain, jobs),
        },
    )


def run_round(
    system: System, server: BenchRedis, jobs: int, latency_jobs: int, seed: int, log_path: Path
) -> dict[str, Any]:
    """Drain, one-at-a-time and pickup figures for one round; raises RunFailed."""
    pickup_log = log_path.with_suffix(".pickups")
    pickup_log.unlink(missing_ok=True)
    with log_path.open("a", encoding="utf-8") as log:
        drained = queue_and_drain(system, server, jobs, log, pickup_log)
        try:
            before = server.counters()
            command = system.command("latency", server.url, latency_jobs, seed)
            timed = submit(command, "latencies", latency_jobs, log)
            after = server.counters()
        finally:
            drained.worker.stop()
    pickups = pickup_ms(timed["enqueued_ns"], pickup_log.read_text("utf-8"))
    if len(pickups) < len(timed["ms"]):
        raise RunFailed(f"pickup: {len(pickups)} of {len(timed['ms'])} timed jobs logged")
    return drained.figures | {
        "latency_ms": spread(timed["ms"]),
        "pickup_ms": spread(pickups),
        "per_job_one_at_a_time": per_job(before, after, timed["jobs_run"]),
    }
