"""gui/log.py: one JSON object per line, naming the backend."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gui import log


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log.JsonLines())
    log.logger.addHandler(handler)
    log.logger.setLevel(logging.INFO)
    yield stream
    log.logger.removeHandler(handler)


def test_each_line_is_json_naming_the_backend(lines: io.StringIO) -> None:
    log.log_event("reply", "OpenAI", waited_s=1.5)
    line = json.loads(lines.getvalue().strip().splitlines()[-1])
    assert line["event"] == "reply" and line["backend"] == "OpenAI" and line["waited_s"] == 1.5
    assert line["level"] == "info" and line["ts"].endswith("Z")


def test_a_logged_exception_is_one_field_not_a_traceback(lines: io.StringIO) -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        log.logger.exception("callback failed")
    line = json.loads(lines.getvalue().strip())
    assert line["error"] == "ValueError: bad"
