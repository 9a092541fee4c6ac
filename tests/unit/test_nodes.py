"""The node's phase from heartbeats and the cached EC2 state."""

from __future__ import annotations

import pytest

from tlfif.contracts import HeartbeatState
from tlfif.nodes import Heartbeat, node_infos, node_phase
from tlfif.ports import InstanceState


def beat(state: HeartbeatState) -> Heartbeat:
    return Heartbeat(node="i-1", state=state, ts_ms=0)


@pytest.mark.parametrize(
    ("beats", "ec2", "phase"),
    [
        ([], None, "stopped"),
        ([], "stopped", "stopped"),
        ([], "pending", "starting"),
        ([], "running", "booting"),
        ([], "stopping", "stopping"),
        (["loading"], "running", "loading"),
        (["engine_restarting"], "running", "engine_restarting"),
        (["loading", "ready"], "running", "ready"),
        (["ready"], None, "ready"),
        (["ready"], "running", "ready"),
        (["stopping"], None, "stopping"),
        # Stopped by POST /stop while the watcher still beats: on its way down.
        (["ready"], "stopped", "stopping"),
        (["ready"], "stopping", "stopping"),
    ],
)
def test_phase(beats: list[HeartbeatState], ec2: InstanceState | None, phase: str) -> None:
    assert node_phase([beat(s) for s in beats], ec2) == phase


def test_a_beat_of_a_watcher_before_0_6_reads_as_loading() -> None:
    old = '{"node": "i-1", "state": "booting", "ts_ms": 0}'
    assert Heartbeat.model_validate_json(old).state == "loading"


def beat_of(node: str, state: HeartbeatState, active: int = 0) -> Heartbeat:
    return Heartbeat(node=node, state=state, ts_ms=0, active=active)


@pytest.mark.parametrize(
    ("beats", "ec2", "nodes"),
    [
        # Nothing known of any node.
        ([], {}, []),
        # One node, no beat: EC2 alone says where it is.
        ([], {"i-1": "stopped"}, [("i-1", "stopped", 0)]),
        # A node just started, no beat yet, beside a ready one running two jobs.
        (
            [beat_of("i-1", "ready", 2)],
            {"i-1": "running", "i-2": "pending"},
            [("i-1", "ready", 2), ("i-2", "starting", 0)],
        ),
        ([], {"i-2": "running"}, [("i-2", "booting", 0)]),
        # One node stopping (seen stopped while its watcher still beats) while another serves.
        (
            [beat_of("i-1", "stopping"), beat_of("i-2", "ready", 1)],
            {"i-1": "stopped", "i-2": "running"},
            [("i-1", "stopping", 0), ("i-2", "ready", 1)],
        ),
        (
            [],
            {"i-1": "stopping", "i-2": "stopped"},
            [("i-1", "stopping", 0), ("i-2", "stopped", 0)],
        ),
        # A beat EC2's last look did not include (started since, or the cache lapsed).
        (
            [beat_of("i-3", "loading")],
            {"i-1": "stopped"},
            [("i-1", "stopped", 0), ("i-3", "loading", 0)],
        ),
        ([beat_of("i-2", "engine_restarting", 1)], {}, [("i-2", "engine_restarting", 1)]),
        # Sorted by id, whichever came first.
        (
            [beat_of("i-b", "ready"), beat_of("i-a", "ready")],
            {},
            [("i-a", "ready", 0), ("i-b", "ready", 0)],
        ),
    ],
)
def test_node_infos(
    beats: list[Heartbeat],
    ec2: dict[str, InstanceState],
    nodes: list[tuple[str, str, int]],
) -> None:
    found = node_infos(beats, ec2)
    assert [(info.node, info.phase, info.active) for info in found] == nodes
