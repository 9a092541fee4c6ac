"""In-memory doubles of the cloud ports (tlfif/ports.py), for tests that need no moto.

The real adapters (tlfif/aws/) are tested against moto's server; these stand in where a
test is about the core's decisions, and they record what was asked of them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tlfif.contracts import Reply
from tlfif.errors import NodeStartRefused, ReplyExists
from tlfif.nodes import fleet_state
from tlfif.ports import InstanceState


@dataclass
class NodeControlDouble:
    """The tagged instances: "i-0" in `current`, and any more in `others` (ADR 0032's
    fleet). Every look at EC2 is recorded as "state", a start as "start" (a scale-out's as
    "scale_out"), a stop as "stop"."""

    current: InstanceState = "stopped"
    refuse_start: str | None = None  # an AWS error code to refuse StartInstances with
    calls: list[str] = field(default_factory=list)
    others: dict[str, InstanceState] = field(default_factory=dict)

    def instance_states(self) -> dict[str, InstanceState]:
        self.calls.append("state")
        return {"i-0": self.current, **self.others}

    def state(self) -> InstanceState:
        return fleet_state(self.instance_states())

    def start(self) -> InstanceState:
        self.calls.append("start")
        if self.refuse_start:
            raise NodeStartRefused(f"AWS refused StartInstances: {self.refuse_start}")
        self.current = "pending"
        return self.current

    def stop(self) -> InstanceState:
        self.calls.append("stop")
        self.current = "stopped"
        self.others = dict.fromkeys(self.others, "stopped")
        return self.current

    def scale_out(self, limit: int) -> InstanceState | None:
        self.calls.append("scale_out")
        states = {"i-0": self.current, **self.others}
        awake = sum(state in ("pending", "running") for state in states.values())
        stopped = [node for node, state in states.items() if state == "stopped"]
        if awake >= limit or not stopped:
            return None
        if self.refuse_start:
            raise NodeStartRefused(f"AWS refused StartInstances: {self.refuse_start}")
        if stopped[0] == "i-0":
            self.current = "pending"
        else:
            self.others[stopped[0]] = "pending"
        return "pending"


class FleetDouble:
    """NodeFleet: the ids running, all stopped by stop_all_running."""

    def __init__(self, running: list[str] | None = None) -> None:
        self.running = running or []

    def stop_all_running(self) -> list[str]:
        stopped, self.running = self.running, []
        return stopped


@dataclass
class ReplyStoreDouble:
    """Write-once like S3 with If-None-Match: *; a second put raises ReplyExists."""

    replies: dict[str, Reply] = field(default_factory=dict)
    puts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def put_reply(self, key: str, reply: Reply) -> None:
        with self._lock:
            self.puts += 1
            if key in self.replies:
                raise ReplyExists(f"{key} exists")
            self.replies[key] = reply

    async def get_reply(self, key: str) -> Reply | None:
        return self.stored(key)

    def stored(self, key: str) -> Reply | None:
        """What a test reads without awaiting (the port's get_reply is async)."""
        return self.replies.get(key)


@dataclass
class SelfStopDouble:
    node: str = "i-0123456789abcdef0"
    stops: int = 0

    def instance_id(self) -> str:
        return self.node

    def stop_self(self) -> None:
        self.stops += 1


@dataclass
class ReadinessMarkerDouble:
    marked: list[tuple[str, int]] = field(default_factory=list)

    def mark_ready(self, instance_id: str, ready_ms: int) -> None:
        self.marked.append((instance_id, ready_ms))


@dataclass
class MetricsDouble:
    counts: dict[str, float] = field(default_factory=dict)  # totals per name
    samples: list[tuple[str, float]] = field(default_factory=list)  # every value, in order

    def count(self, name: str, value: float = 1.0) -> None:
        self.counts[name] = self.counts.get(name, 0.0) + value
        self.samples.append((name, value))

    def values(self, name: str) -> list[float]:
        return [value for sample, value in self.samples if sample == name]
