"""The router's log lines: one JSON object each, extras as keys, tracebacks kept."""

from __future__ import annotations

import json
import logging
import sys

from tlfif.runtime.logs import JsonFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "router.test", "levelno": 20, "levelname": "INFO"})
    made.msg = message
    made.__dict__.update(extra)
    return made


def test_a_line_is_one_json_object_with_the_extras() -> None:
    line = JsonFormatter().format(record("request", requestId="r-1", status=202, latencyMs=1.5))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "request" and entry["logger"] == "router.test"
    assert entry["requestId"] == "r-1" and entry["status"] == 202 and entry["latencyMs"] == 1.5


def test_uvicorns_coloured_copy_is_dropped() -> None:
    entry = json.loads(JsonFormatter().format(record("up", color_message="\x1b[36mup\x1b[0m")))
    assert "color_message" not in entry


def test_an_exception_keeps_its_traceback_on_the_same_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = record("unexpected error")
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line and "RuntimeError: boom" in json.loads(line)["exception"]
