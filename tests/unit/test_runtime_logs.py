"""The watcher's log lines are single JSON objects carrying their fields."""

from __future__ import annotations

import json
import logging

from tlfif.runtime.logs import JsonFormatter, log_event


class Capturing(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


def test_a_record_is_one_json_line_with_its_fields() -> None:
    captured: list[logging.LogRecord] = []
    logger = logging.getLogger("watcher.test_logs")
    handler = Capturing(captured)
    logger.addHandler(handler)
    try:
        log_event(logger, "job_answered", logging.WARNING, jobId="j-1", latencyMs=12)
    finally:
        logger.removeHandler(handler)
    line = JsonFormatter().format(captured[0])
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["event"] == "job_answered" and parsed["level"] == "WARNING"
    assert parsed["jobId"] == "j-1" and parsed["latencyMs"] == 12
    assert parsed["ts"].endswith("+00:00")
