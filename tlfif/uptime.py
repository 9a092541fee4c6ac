"""The node's running time, as the scheduled check saw it once a minute, kept in Redis.

GET /cost adds the running time since the billed figure to that figure, without asking AWS
per request: this ledger is what it adds up. Each session is [first seen up, last seen up];
a session may be up to one check interval short at either end.
"""

from __future__ import annotations

from pydantic import BaseModel

from tlfif import keys
from tlfif.redis_conn import RedisClient, queue_errors

# Older sessions can no longer follow any billed figure GET /cost would use.
KEEP_MS = 40 * 86400 * 1000


class UptimeLedger(BaseModel):
    sessions: list[tuple[int, int]] = []
    open: bool = False  # the last session was still running at the last observation
    observed_ms: int = 0

    def observe(self, up: bool, now_ms: int) -> UptimeLedger:
        """The ledger after seeing the node up (or not) at `now_ms`."""
        sessions = [s for s in self.sessions if s[1] >= now_ms - KEEP_MS]
        if up and self.open and sessions:
            sessions[-1] = (sessions[-1][0], now_ms)
        elif up:
            sessions.append((now_ms, now_ms))
        return UptimeLedger(sessions=sessions, open=up, observed_ms=now_ms)

    def running_seconds(self, since_ms: int, now_ms: int, up_now: bool) -> float:
        """Seconds the node ran from `since_ms` to `now_ms`. With `up_now` (a live
        heartbeat says so), the open session runs on to `now_ms`."""
        total = 0
        for index, (start, end) in enumerate(self.sessions):
            if up_now and self.open and index == len(self.sessions) - 1:
                end = max(end, now_ms)
            total += max(0, end - max(start, since_ms))
        return total / 1000


class UptimeStore:
    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    async def load(self) -> UptimeLedger:
        with queue_errors():
            body = await self.redis.get(keys.UPTIME)
        return UptimeLedger.model_validate_json(body) if body else UptimeLedger()

    async def observe(self, up: bool, now_ms: int) -> UptimeLedger:
        """Record one observation. One writer (the scheduled check, once a minute), so a
        plain read-modify-write: two overlapping runs lose at most one minute."""
        ledger = (await self.load()).observe(up, now_ms)
        with queue_errors():
            await self.redis.set(keys.UPTIME, ledger.model_dump_json())
        return ledger
