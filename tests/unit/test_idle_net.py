"""updated_activity: what the idle safety net counts as use."""

from __future__ import annotations

from tlfif.idle_net import NodeActivity, updated_activity
from tlfif.nodes import Heartbeat

NOW = 10_000_000
FALLBACK = 1800.0


def beat(**fields: object) -> Heartbeat:
    return Heartbeat.model_validate({"node": "i-1", "state": "ready", "ts_ms": NOW, **fields})


def test_first_sight_starts_the_clock_with_the_fallback_idle_time() -> None:
    activity = updated_activity(None, [], False, NOW, FALLBACK)
    assert activity == NodeActivity(last_used_ms=NOW, idle_seconds=FALLBACK)
    assert activity.deadline_ms(300) == NOW + (1800 + 300) * 1000


def test_a_heartbeat_that_tells_its_idle_window_is_believed() -> None:
    known = NodeActivity(last_used_ms=NOW - 5_000_000, idle_seconds=FALLBACK)
    activity = updated_activity(
        known, [beat(idle_seconds=120.0, idle_since_ms=NOW - 60_000)], False, NOW, FALLBACK
    )
    assert activity == NodeActivity(last_used_ms=NOW - 60_000, idle_seconds=120.0)


def test_a_heartbeat_without_it_is_trusted_to_run_its_own_timer() -> None:
    known = NodeActivity(last_used_ms=NOW - 5_000_000, idle_seconds=FALLBACK)
    assert updated_activity(known, [beat()], False, NOW, FALLBACK).last_used_ms == NOW


def test_without_a_heartbeat_the_clock_runs_on() -> None:
    known = NodeActivity(last_used_ms=NOW - 5_000_000, idle_seconds=120.0)
    assert updated_activity(known, [], False, NOW, FALLBACK) == known


def test_a_job_is_use() -> None:
    known = NodeActivity(last_used_ms=NOW - 5_000_000, idle_seconds=120.0)
    activity = updated_activity(
        known, [beat(idle_seconds=120.0, idle_since_ms=NOW - 4_000_000)], True, NOW, FALLBACK
    )
    assert activity.last_used_ms == NOW
