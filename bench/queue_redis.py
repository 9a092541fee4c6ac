"""The queue benchmark's own redis-server: no persistence, emptied between runs, and the
counters each run is measured by (INFO stats and commandstats).

Two counts per job, because they differ: round trips are the requests Redis read
(total_reads_processed: a pipeline, a MULTI block sent at once or a Lua script is one),
commands are what commandstats counts (each command in a pipeline, and each redis.call a
script makes, besides the script's own EVALSHA). And the CPU time the one Redis thread
spent per job (INFO cpu): what grows if a command scans a list as it gets longer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from local.processes import ChildProcess, StartFailed, free_port, stopped_on_failure
from local.redis_server import redis_binary

START_TIMEOUT_SECONDS = 15.0
# Once per connection, not per job: left out of the commands per job (still listed).
CONNECTION_SET_UP = frozenset({"auth", "hello", "select", "client|setinfo", "client|setname"})


@dataclass(frozen=True)
class Counters:
    reads: int
    commands: dict[str, int]
    cpu_seconds: float = 0.0  # redis-server's user + system CPU time


def per_job(before: Counters, after: Counters, jobs: int) -> dict[str, Any]:
    """Round trips and commands per job between two snapshots, less the INFO that took
    `before` (one read, one command) and connection set-up."""
    calls = {
        name: after.commands.get(name, 0) - before.commands.get(name, 0) for name in after.commands
    }
    calls["info"] = calls.get("info", 0) - 1
    per_job_calls = sum(n for name, n in calls.items() if name not in CONNECTION_SET_UP)
    return {
        "round_trips": round((after.reads - before.reads - 1) / jobs, 3),
        "commands": round(per_job_calls / jobs, 3),
        "redis_cpu_us": round((after.cpu_seconds - before.cpu_seconds) * 1e6 / jobs, 2),
        "commands_by_name": {
            name: round(n / jobs, 3) for name, n in sorted(calls.items(), key=lambda c: -c[1]) if n
        },
    }


class BenchRedis:
    """redis-server on a free loopback port, `save ""` and `appendonly no`: a queue's
    figures should not include the disk."""

    def __init__(self, run_dir: Path) -> None:
        port = free_port()
        config = run_dir / "redis.conf"
        config.write_text(
            f'port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir "{run_dir}"\n', "utf-8"
        )
        self.server = ChildProcess("redis", [redis_binary(), str(config)], {}, run_dir)
        self.url = f"redis://127.0.0.1:{port}/0"
        self.client = redis.Redis.from_url(self.url, decode_responses=True)
        with stopped_on_failure(self.server):
            self._wait_until_up(port)

    def _wait_until_up(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if not self.server.running():
                    raise StartFailed(f"redis exited:\n{self.server.tail()}") from None
                if time.monotonic() > deadline:
                    raise StartFailed(f"redis did not answer on port {port}") from None
                time.sleep(0.05)

    def version(self) -> str:
        return str(self.client.info("server")["redis_version"])

    def flush(self) -> None:
        """Keys, cached scripts and function libraries (streaq loads one) all go."""
        self.client.flushall()
        self.client.script_flush()
        self.client.function_flush()

    def counters(self) -> Counters:
        info = self.client.info("stats", "commandstats", "cpu")
        commands = {
            key.removeprefix("cmdstat_"): int(value["calls"])
            for key, value in info.items()
            if key.startswith("cmdstat_")
        }
        cpu = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return Counters(int(info["total_reads_processed"]), commands, cpu)

    def stop(self) -> None:
        self.client.close()
        self.server.stop()
