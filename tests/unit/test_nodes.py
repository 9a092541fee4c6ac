"""The node's phase from heartbeats and the cached EC2 state."""

from __future__ import annotations

import pytest

from tlfif.contracts import HeartbeatState
from tlfif.nodes import Heartbeat, node_phase
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
