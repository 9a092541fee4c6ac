"""What every system's script shares: its command line, the no-op job, and the lines it
reports to the bench.

`python -m bench.peers.<system>_worker ROLE --redis URL [--jobs N] [--concurrency C]`:
- `work`: run the system's worker until SIGTERM; report "drained" once it has run N jobs;
- `enqueue`: queue N jobs, then report "enqueued";
- `latency`: run N jobs one at a time (enqueue, wait for the result), report "latencies";
- `versions`: report the Python and the package versions the system runs on.

Reports are JSON lines on stdout behind a prefix, so a library printing its own banner
there is ignored. Standard library only: this runs in every peer's venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

PREFIX = "@bench "
PAYLOAD_BYTES = 200
# One-at-a-time jobs: untimed first ones (connections, subscriptions, caches), then a
# random pause before each timed one, so the worker is idle when it arrives and a polling
# worker is met at every phase of its poll, not always at the same one.
WARM_UP_JOBS = 5
GAP_SECONDS = (0.002, 0.010)
# How long a submitter waits for any one result before the run counts as failed.
RESULT_TIMEOUT_SECONDS = 10

ROLES = ("work", "enqueue", "latency", "versions")


@dataclass(frozen=True)
class Args:
    role: str
    redis_url: str
    jobs: int
    concurrency: int
    seed: int


def report(kind: str, **fields: Any) -> None:
    # The process's own stdout: celery's worker swaps sys.stdout for a logger.
    out = sys.__stdout__ or sys.stdout
    out.write(PREFIX + json.dumps({"kind": kind, **fields}) + "\n")
    out.flush()


def payload(index: int) -> str:
    """A job's argument: PAYLOAD_BYTES of ASCII, numbered so no two are alike."""
    head = f"job {index:06d} "
    return head + "x" * (PAYLOAD_BYTES - len(head))


class Tally:
    """Counts the no-op jobs a worker ran (from any thread) and reports "drained", with
    the time from the first to the N-th, when the N-th runs: the worker's start-up is
    not part of the drain."""

    def __init__(self) -> None:
        self.target = 0
        self._count = 0
        self._first = 0.0
        self._lock = threading.Lock()

    def ran(self) -> None:
        now = time.perf_counter()
        with self._lock:
            self._count += 1
            if self._count == 1:
                self._first = now
            if self._count == self.target:
                report("drained", count=self._count, seconds=now - self._first)


TALLY = Tally()


def noop(payload: str) -> int:
    """The job every system runs: count it, and return the payload's length."""
    TALLY.ran()
    return len(payload)


def one_at_a_time(run_one: Callable[[str], object], jobs: int, seed: int) -> list[float]:
    """Milliseconds from submitting each of `jobs` jobs to its result, one after another."""
    gaps = random.Random(seed)
    for index in range(WARM_UP_JOBS):
        run_one(payload(index))
    samples = []
    for index in range(jobs):
        time.sleep(gaps.uniform(*GAP_SECONDS))
        started = time.perf_counter()
        run_one(payload(index))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def one_at_a_time_async(
    run_one: Callable[[str], Awaitable[object]], jobs: int, seed: int
) -> list[float]:
    """one_at_a_time for a system whose client is async."""
    gaps = random.Random(seed)
    for index in range(WARM_UP_JOBS):
        await run_one(payload(index))
    samples = []
    for index in range(jobs):
        await asyncio.sleep(gaps.uniform(*GAP_SECONDS))
        started = time.perf_counter()
        await run_one(payload(index))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def parse(argv: Sequence[str]) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    given = parser.parse_args(list(argv))
    return Args(given.role, given.redis, given.jobs, given.concurrency, given.seed)


def versions(distributions: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def main(
    *,
    work: Callable[[Args], None],
    enqueue: Callable[[Args], None],
    latency: Callable[[Args], list[float]],
    distributions: Sequence[str],
) -> int:
    """Run the role named on the command line with the system's own three functions."""
    args = parse(sys.argv[1:])
    # No per-job log lines from any system: the bench compares queues, not logging.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.role == "versions":
        report("versions", python=sys.version.split()[0], packages=versions(distributions))
    elif args.role == "work":
        TALLY.target = args.jobs
        work(args)
    elif args.role == "enqueue":
        started = time.perf_counter()
        enqueue(args)
        report("enqueued", jobs=args.jobs, seconds=time.perf_counter() - started)
    else:
        samples = latency(args)
        report("latencies", ms=samples, jobs_run=len(samples) + WARM_UP_JOBS)
    return 0
