"""The node as Redis knows it: heartbeats, holds, the cached EC2 state, the start lock.

/status and /result read the node's phase from here, never from an AWS call per poll:
the heartbeat the watcher writes, plus the EC2 state the router last saw, cached briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, field_validator

from tlfif import keys
from tlfif.contracts import (
    FailureKind,
    HeartbeatState,
    HoldKind,
    NodeFailure,
    NodeInfo,
    NodePhase,
    WakeNote,
    now_ms,
)
from tlfif.ports import InstanceState
from tlfif.redis_conn import RedisClient, load_script, queue_errors

# A failure record lasts an hour: long enough to be read, short enough not to haunt.
FAILURE_TTL_SECONDS = 3600
# With several watchers, the most useful word wins: one ready node serves jobs.
BEAT_PRIORITY: tuple[HeartbeatState, ...] = ("ready", "engine_restarting", "loading", "stopping")


class Heartbeat(BaseModel):
    node: str
    state: HeartbeatState
    ts_ms: int
    active: int = 0
    # The idle window in force and when it began counting (node ready, or the last job
    # finished). Optional: the scheduled check's idle safety net reads them when given.
    idle_seconds: float | None = None
    idle_since_ms: int | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _loading_was_booting(cls, value: Any) -> Any:
        # Watchers before 0.6.0 beat "booting" while their engine loaded.
        return "loading" if value == "booting" else value


def node_phase(heartbeats: list[Heartbeat], ec2_state: InstanceState | None) -> NodePhase:
    """One word for the node, from what Redis holds.

    An EC2 state on its way down (cached by the router that just stopped the node) wins;
    otherwise a live heartbeat is the watcher's own word; without one, the EC2 state the
    router last saw says whether the machine is coming up.
    """
    if ec2_state in ("stopping", "shutting-down"):
        return "stopping"
    states = {beat.state for beat in heartbeats}
    if ec2_state == "stopped":
        # Seen stopped (POST /stop, the budget killer) while a watcher still beats: it
        # is on its way down, whatever its last beat said.
        return "stopping" if states else "stopped"
    for state in BEAT_PRIORITY:
        if state in states:
            return state
    if ec2_state == "pending":
        return "starting"
    if ec2_state == "running":
        return "booting"
    return "stopped"


# The most awake first: a fleet's one state is its most awake instance's (ADR 0032).
AWAKE_ORDER: tuple[InstanceState, ...] = ("running", "pending", "stopping", "stopped")


def fleet_state(states: dict[str, InstanceState]) -> InstanceState:
    for state in AWAKE_ORDER:
        if state in states.values():
            return state
    return "stopped"


def node_infos(beats: list[Heartbeat], instance_states: dict[str, InstanceState]) -> list[NodeInfo]:
    """Each node with its own phase, by id: every instance EC2 was last seen to have (its
    beat, if any, read with its state), and every heartbeating node that look missed (one
    started since, or a cache that lapsed). Nothing known of either: []."""
    beat_of = {beat.node: beat for beat in beats}
    found = [
        NodeInfo(node=node, phase=node_phase([beat], None), active=beat.active)
        for node, beat in beat_of.items()
        if node not in instance_states
    ]
    for node, state in instance_states.items():
        beat = beat_of.get(node)
        found.append(
            NodeInfo(
                node=node,
                phase=node_phase([beat] if beat else [], state),
                active=beat.active if beat else 0,
            )
        )
    return sorted(found, key=lambda info: info.node)


@dataclass(frozen=True)
class NodeView:
    """The node as Redis tells it, read at once: the hold, live heartbeats, cached EC2 state."""

    hold: HoldKind | None
    beats: list[Heartbeat]
    ec2_state: InstanceState | None

    @property
    def phase(self) -> NodePhase:
        return node_phase(self.beats, self.ec2_state)

    @classmethod
    def parse(cls, hold: Any, ec2_state: Any, beats: list[Any]) -> NodeView:
        """From lua/view.lua's answer (or the tail enqueue.lua appends)."""
        return cls(
            hold=hold if hold in ("manual", "budget") else None,
            beats=[Heartbeat.model_validate_json(beat) for beat in beats],
            ec2_state=ec2_state or None,
        )


class NodeRegistry:
    """Heartbeats, holds and start bookkeeping. Every method raises QueueUnavailable."""

    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis
        self._stop = load_script(redis, "stop")
        self._set_hold = load_script(redis, "hold")
        self._view = load_script(redis, "view")

    async def beat(
        self,
        node: str,
        state: HeartbeatState,
        ttl_seconds: float,
        active: int = 0,
        *,
        idle_seconds: float | None = None,
        idle_since_ms: int | None = None,
    ) -> WakeNote | None:
        """Write the heartbeat; answers the latest wake-ahead's note, read in the same round
        trip (the watcher's idle timer applies each note once, ADR 0029)."""
        beat = Heartbeat(
            node=node,
            state=state,
            ts_ms=now_ms(),
            active=active,
            idle_seconds=idle_seconds,
            idle_since_ms=idle_since_ms,
        )
        with queue_errors():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(keys.node(node), beat.model_dump_json(), px=int(ttl_seconds * 1000))
                pipe.sadd(keys.NODES, node)
                pipe.get(keys.WAKE)
                *_, note = await pipe.execute()
        return parse_wake_note(note)

    async def view(self) -> NodeView:
        """Hold, heartbeats and cached EC2 state in one round trip (lua/view.lua)."""
        with queue_errors():
            hold, ec2_state, *beats = await self._view(
                keys=[keys.NODES, keys.HOLD, keys.EC2_STATE], args=[keys.node("")]
            )
        return NodeView.parse(hold, ec2_state, beats)

    async def note_wake(self, sub: str, note: WakeNote, ttl_seconds: int) -> None:
        """A wake-ahead, kept `ttl_seconds` (its boot and idle minutes): its note for the
        watcher, and `sub`'s marker that the prompt which follows consumes (enqueue.lua)."""
        with queue_errors():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(keys.WAKE, note.model_dump_json(), ex=ttl_seconds)
                pipe.set(keys.woken(sub), str(note.ts_ms), ex=ttl_seconds)
                await pipe.execute()

    async def wake_note(self) -> WakeNote | None:
        return parse_wake_note(await self._read(keys.WAKE))

    async def heartbeats(self) -> list[Heartbeat]:
        return (await self.view()).beats

    async def try_mark_stopping(self, node: str, ttl_seconds: float) -> bool:
        """The stop script: True (and the heartbeat says "stopping") only if no job waits."""
        beat = Heartbeat(node=node, state="stopping", ts_ms=now_ms())
        with queue_errors():
            allowed = await self._stop(
                keys=[keys.PENDING, keys.inflight(node), keys.node(node)],
                args=[beat.model_dump_json(), int(ttl_seconds * 1000)],
            )
        return bool(int(allowed))

    async def hold(self) -> HoldKind | None:
        value = await self._read(keys.HOLD)
        return value if value in ("manual", "budget") else None  # type: ignore[return-value]

    async def set_hold(self, kind: HoldKind, ttl_seconds: int | None = None) -> None:
        """Set a hold. A manual hold never replaces a budget hold: POST /stop during a
        budget hold must not turn it into one the next prompt lifts."""
        with queue_errors():
            await self._set_hold(keys=[keys.HOLD], args=[kind, int(ttl_seconds or 0)])

    async def clear_manual_hold(self) -> None:
        """A new prompt lifts a manual hold; a budget hold stays until the owner lifts it."""
        with queue_errors():
            if await self.redis.get(keys.HOLD) == "manual":
                await self.redis.delete(keys.HOLD)

    async def clear_hold(self) -> None:
        await self._delete(keys.HOLD)

    async def cached_ec2_state(self) -> InstanceState | None:
        return await self._read(keys.EC2_STATE)  # type: ignore[return-value]

    async def remember_ec2_state(self, state: InstanceState, ttl_seconds: int) -> None:
        await self._write(keys.EC2_STATE, state, ttl_seconds)

    async def remember_instance_states(
        self, states: dict[str, InstanceState], ttl_seconds: int
    ) -> None:
        """Each tagged instance's state as EC2 just said (all of them, so a gone one goes)."""
        with queue_errors():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.EC2_STATES)
                if states:
                    mapping: dict[str | bytes, str | bytes] = {k: v for k, v in states.items()}
                    pipe.hset(keys.EC2_STATES, mapping=mapping)  # type: ignore[arg-type]
                    pipe.expire(keys.EC2_STATES, ttl_seconds)
                await pipe.execute()

    async def remember_fleet_stopped(self, state: InstanceState, ttl_seconds: int) -> None:
        """After a stop of every node: the fleet's state, and each instance's as the same."""
        await self.remember_ec2_state(state, ttl_seconds)
        known = await self.instance_states()
        await self.remember_instance_states(dict.fromkeys(known, state), ttl_seconds)

    async def instance_states(self) -> dict[str, InstanceState]:
        """The states remember_instance_states kept, while they are fresh ({} otherwise)."""
        with queue_errors():
            found = await self.redis.hgetall(keys.EC2_STATES)
        return {str(node): state for node, state in found.items()}  # type: ignore[misc]

    async def take_scale_out(self, ttl_seconds: int) -> bool:
        """One scale-out per boot: SET NX, kept until the started node should beat."""
        with queue_errors():
            return bool(
                await self.redis.set(keys.SCALED_OUT, str(now_ms()), nx=True, ex=ttl_seconds)
            )

    async def scaled_out_recently(self) -> bool:
        with queue_errors():
            return bool(await self.redis.exists(keys.SCALED_OUT))

    async def take_start_lock(self, ttl_seconds: int) -> bool:
        """One router at a time decides whether to start the node (SET NX with expiry)."""
        with queue_errors():
            return bool(
                await self.redis.set(keys.START_LOCK, str(now_ms()), nx=True, ex=ttl_seconds)
            )

    async def release_start_lock(self) -> None:
        await self._delete(keys.START_LOCK)

    async def record_failure(self, kind: FailureKind, code: str, message: str) -> NodeFailure:
        """Note why the node failed to come up; an "engine" failure keeps polls and the
        scheduled check from starting it again (NodeWaker.ensure_awake)."""
        failure = NodeFailure(kind=kind, code=code, message=message, ts_ms=now_ms())
        await self._write(keys.START_ERROR, failure.model_dump_json(), FAILURE_TTL_SECONDS)
        return failure

    async def clear_start_error(self) -> None:
        await self._delete(keys.START_ERROR)

    async def start_error(self) -> NodeFailure | None:
        body = await self._read(keys.START_ERROR)
        return NodeFailure.model_validate_json(body) if body else None

    async def _read(self, key: str) -> str | None:
        with queue_errors():
            value = await self.redis.get(key)
        return str(value) if value is not None else None

    async def _write(self, key: str, value: str, ttl_seconds: int | None) -> None:
        with queue_errors():
            await self.redis.set(key, value, ex=ttl_seconds)

    async def _delete(self, key: str) -> None:
        with queue_errors():
            await self.redis.delete(key)


def parse_wake_note(body: Any) -> WakeNote | None:
    """A stored wake note, or None (none, or one this version cannot read: a hint only)."""
    if not body:
        return None
    try:
        return WakeNote.model_validate_json(body)
    except ValueError:
        return None
