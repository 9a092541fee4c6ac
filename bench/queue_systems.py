"""The job queues `python -m bench queues` compares, and how to run each one's script
(bench/peers/<system>_worker.py): in which interpreter, with which command line."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "bench" / ".work" / "venvs"
CONCURRENCY = 4  # the worker's concurrent job slots: the watcher's default (WatcherSettings)


@dataclass(frozen=True)
class System:
    name: str
    python: Path
    how: str  # what runs, in a phrase for the results
    slots: int = CONCURRENCY

    @property
    def module(self) -> str:
        return f"bench.peers.{self.name}_worker"

    def missing(self) -> str | None:
        """Why this system cannot run here, or None."""
        if self.python.exists():
            return None
        return f"no venv at {self.python.parent.parent}: run `make bench-setup`"

    def command(self, role: str, redis_url: str, jobs: int = 0, seed: int = 0) -> list[str]:
        return [
            str(self.python), "-m", self.module, role, "--redis", redis_url,
            "--jobs", str(jobs), "--concurrency", str(self.slots), "--seed", str(seed),
        ]  # fmt: skip


def peer(name: str, how: str, slots: int = CONCURRENCY) -> System:
    return System(name, VENVS / name / "bin" / "python", how, slots)


# TL-FIF and the floor run in the repo's own venv, the one running the bench.
OWN_PYTHON = Path(sys.executable)

SYSTEMS = (
    System("floor", OWN_PYTHON, "redis-py asyncio: LPUSH, BLMOVE, one RPUSH result; BLPOP"),
    System("tlfif", OWN_PYTHON, "WatcherNode, no-op engine; JobQueue.enqueue / wait_done"),
    System("tlfif_logged", OWN_PYTHON, "as tlfif, its INFO lines (one per job) as JSON to a file"),
    peer("saq", "Worker; Job.refresh(until_complete) over pub/sub"),
    peer("arq", "Worker poll_delay 5 ms; Job.result(poll_delay=5 ms)"),
    peer("rq", "SimpleWorker (one job at a time); latest_result(timeout) XREAD", slots=1),
    peer("dramatiq", "Worker threads, Redis broker, Results on Redis; get_result(block)"),
    peer("celery", "worker --pool=threads, Redis broker and backend; AsyncResult.get()"),
    peer("streaq", "Worker; result key polled every 1 ms"),
)
BASELINES = ("saq", "floor")  # what the table's ratios are to


def child_env() -> dict[str, str]:
    """The bench's environment for a system's script: the repo importable (bench.peers), and
    no TLFIF_ setting, so TL-FIF's node runs with the defaults it ships with."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TLFIF_")}
    return env | {"PYTHONPATH": str(ROOT)}
