"""The idle safety net's memory: when the node was last used, and its idle time.

The watcher stops its own node after the idle time; this is for when it cannot (it died,
hangs, or its self-stop keeps failing). The scheduled check stops a node that has had no
job for its latest idle time plus a grace (5 minutes): the seed's "idle miss" net.

What counts as use, each time the check looks:
- a job pending, in flight, or running on a node (heartbeat `active`) -> now;
- a heartbeat that tells its idle window (`idle_seconds`, `idle_since_ms`) -> that window;
- a heartbeat that does not tell it -> now: a live watcher without those fields is trusted
  to run its own timer, since a once-a-minute look would miss jobs of a few seconds and
  stop a node in use;
- no heartbeat at all -> nothing new: the clock runs from the watcher's last word (or from
  when the node was first seen up), with the fallback idle time of 30 minutes.
"""

from __future__ import annotations

from pydantic import BaseModel

from tlfif import keys
from tlfif.nodes import Heartbeat
from tlfif.redis_conn import RedisClient, queue_errors

# Forgotten if the check stops looking for this long; it is rebuilt from "now" then.
ACTIVITY_TTL_SECONDS = 2 * 86400


class NodeActivity(BaseModel):
    last_used_ms: int
    idle_seconds: float

    def deadline_ms(self, grace_seconds: float) -> int:
        return self.last_used_ms + int((self.idle_seconds + grace_seconds) * 1000)


def updated_activity(
    known: NodeActivity | None,
    beats: list[Heartbeat],
    busy: bool,
    now_ms: int,
    fallback_idle_seconds: float,
) -> NodeActivity:
    """The activity after one look at a node that is up (see the module docstring)."""
    told = [b for b in beats if b.idle_seconds is not None and b.idle_since_ms is not None]
    signs = [known.last_used_ms] if known else []
    signs += [beat.idle_since_ms for beat in told if beat.idle_since_ms is not None]
    if busy or len(told) < len(beats) or not signs:
        signs.append(now_ms)  # in use, a watcher trusted with its own timer, or first sight
    idle = max((b.idle_seconds for b in told if b.idle_seconds is not None), default=None)
    if idle is None:
        idle = known.idle_seconds if known else fallback_idle_seconds
    return NodeActivity(last_used_ms=max(signs), idle_seconds=idle)


class ActivityStore:
    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    async def load(self) -> NodeActivity | None:
        with queue_errors():
            body = await self.redis.get(keys.ACTIVITY)
        return NodeActivity.model_validate_json(body) if body else None

    async def save(self, activity: NodeActivity) -> None:
        with queue_errors():
            await self.redis.set(keys.ACTIVITY, activity.model_dump_json(), ex=ACTIVITY_TTL_SECONDS)

    async def forget(self) -> None:
        """The node is down: its next start counts afresh."""
        with queue_errors():
            await self.redis.delete(keys.ACTIVITY)
