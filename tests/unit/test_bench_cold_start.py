"""bench/cold_start.py: the share owned, and the phases read from the watcher's log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bench.cold_start import BOOT_DELAY_SECONDS, split, summarise, watcher_events

SENT = 1_800_000_000.0


def line(event: str, at: float, **fields: str) -> str:
    ts = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return json.dumps({"ts": ts, "event": event, **fields})


def test_events_after_the_prompt_are_read_and_the_others_left() -> None:
    log = "\n".join([
        line("node_starting", SENT - 50),  # the previous boot
        "not json", '{"_aws": {"Timestamp": 1}}',
        line("node_starting", SENT + 3), line("node_ready", SENT + 5),
        line("job_answered", SENT + 6, jobId="another"),
        line("job_answered", SENT + 6.5, jobId="mine"),
    ])  # fmt: skip
    assert watcher_events(log, SENT, "mine") == {
        "node_starting": SENT + 3, "node_ready": SENT + 5, "job_answered": SENT + 6.5
    }  # fmt: skip


def test_owned_is_the_median_reply_less_boot_delay_and_median_model_load() -> None:
    reply = {"latency_ms": 500, "usage": {"completion_tokens": 8}, "status": "done"}
    events = {"node_starting": SENT + 3, "node_ready": SENT + 5}
    run = split(SENT, 7.0, 4.0, reply, events)
    assert run["owned_seconds"] == pytest.approx(7.0 - BOOT_DELAY_SECONDS - 4.0)
    phases = run["phases_seconds"]
    assert phases["prompt_to_node_starting"] == 3 and phases["node_starting_to_node_ready"] == 2
    assert phases["node_ready_to_job_answered"] is None  # no such line: not guessed
    rounds = [run, split(SENT, 5.0, 4.5, reply, events), split(SENT, 6.0, 3.0, reply, events)]
    found = summarise(rounds)
    # Of the medians (reply 6, load 4), not the median of each round's own (2, -0.5, 2).
    assert found["owned_seconds"] == pytest.approx(6.0 - BOOT_DELAY_SECONDS - 4.0)
    assert found["owned_per_round_seconds"]["median"] == pytest.approx(2.0)
    assert found["owned_less_generation_seconds"] == pytest.approx(0.5)
    assert found["goal"]["met"] is True
    assert "node_ready_to_job_answered" not in found["phases_seconds"]
