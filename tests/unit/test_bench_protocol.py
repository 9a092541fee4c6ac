"""bench/peers/protocol.py: payloads alike in length, and the two halves of pickup."""

from __future__ import annotations

from pathlib import Path

from bench.peers.protocol import PAYLOAD_BYTES, TIMED_HEAD, EnqueueClock, PickupLog, payload


def test_timed_and_drain_payloads_have_the_same_length_and_differ_by_head() -> None:
    drain, timed = payload(123), payload(123, TIMED_HEAD)
    assert len(drain) == len(timed) == PAYLOAD_BYTES
    assert drain.startswith("job 000123 ") and timed.startswith("lat 000123 ")


def test_the_worker_logs_the_start_of_timed_jobs_only(tmp_path: Path) -> None:
    log, path = PickupLog(), tmp_path / "pickups"
    log.started(payload(1, TIMED_HEAD))  # not opened yet: nothing to write to
    log.open(str(path))
    log.started(payload(2))
    log.started(payload(3, TIMED_HEAD))
    lines = path.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["000003"]
    assert int(lines[0].split()[1]) > 0


def test_the_submitter_marks_only_the_timed_job_in_hand() -> None:
    clock = EnqueueClock()
    clock.mark()  # a warm-up job: untimed
    clock.current = 7
    clock.mark()
    clock.current = None
    clock.mark()
    assert list(clock.returned_ns) == [7]
