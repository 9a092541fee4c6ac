"""Nodes that run with no watcher heartbeat: EC2 bills them and nothing serves the queue.

The scheduled check counts them each run as NodesSilent, and the nodes-silent alarm fires
on two runs in a row (ADR 0033). A node just started has no watcher yet: it counts only
once it has run longer than BOOT_GRACE_SECONDS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from tlfif.nodes import Heartbeat

NODES_SILENT_METRIC = "NodesSilent"
# From EC2's running to the watcher's first beat: OS boot and supervisord, about a minute
# (the watcher beats "loading" before its engine is ready; the seed's cold start to a ready
# engine is under 90 s). Five minutes leaves room for a slow boot without a false alarm.
BOOT_GRACE_SECONDS = 300


class NodeLaunches(Protocol):
    """When each running node was started, as the cloud says."""

    def running_since(self) -> dict[str, int]:
        """Instance id -> launch time (epoch ms) of each running tagged instance; none:
        {}. Raises NodeControlError."""
        ...


def silent_nodes(
    running_since: Mapping[str, int],
    beats: Iterable[Heartbeat],
    now_ms: int,
    grace_seconds: int = BOOT_GRACE_SECONDS,
) -> list[str]:
    """Ids of the nodes running longer than the grace with no heartbeat, sorted."""
    beating = {beat.node for beat in beats}
    cutoff = now_ms - grace_seconds * 1000
    return sorted(
        node
        for node, launched_ms in running_since.items()
        if launched_ms <= cutoff and node not in beating
    )
