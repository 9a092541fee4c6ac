"""Backoff doubles up to its cap; RedisHealth logs one line per change of state."""

from __future__ import annotations

import logging

import pytest

from tlfif.runtime.logs import event_fields
from watcher.redis_health import Backoff, RedisHealth


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(max_seconds=1.0, first_seconds=0.25)
    assert [backoff.next_delay() for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.25


def test_health_logs_down_once_and_ok_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watcher")
    health = RedisHealth()
    health.answered()  # already ok: nothing to say
    for _ in range(3):
        health.failed(ConnectionError("refused"), retry_in=0.5)
    assert health.is_down
    health.answered()
    health.answered()
    lines = [event_fields(r) for r in caplog.records]
    assert [(line["event"], line["redis"]) for line in lines] == [
        ("redis_health", "down"),
        ("redis_health", "ok"),
    ]
    assert lines[0]["error"] == "refused" and lines[0]["retryInSeconds"] == 0.5
    assert "downSeconds" in lines[1]
