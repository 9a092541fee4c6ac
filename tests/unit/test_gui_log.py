"""gui/log.py: TL-FIF's one JSON line format, each line naming the backend."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gui import log
from tlfif.runtime.logs import JsonFormatter, event_fields


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log.logger.addHandler(handler)
    log.logger.setLevel(logging.INFO)
    yield stream
    log.logger.removeHandler(handler)


def test_each_line_is_json_naming_the_backend(lines: io.StringIO) -> None:
    log.log_event("reply", "OpenAI", waited_s=1.5)
    line = json.loads(lines.getvalue().strip().splitlines()[-1])
    assert line["event"] == "reply" and line["backend"] == "OpenAI" and line["waited_s"] == 1.5
    # The same line as the router's and the watcher's: ts, level, logger, message.
    assert line["level"] == "INFO" and line["ts"].endswith("+00:00")
    assert line["logger"] == "tlfif.gui" and line["message"] == "reply"


def test_a_logged_exception_stays_one_json_line(lines: io.StringIO) -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        log.logger.exception("callback failed")
    (text,) = lines.getvalue().strip().splitlines()
    assert "ValueError: bad" in json.loads(text)["exception"]


def test_its_records_read_as_every_other_events(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=log.LOGGER_NAME):
        log.logger.propagate = True
        try:
            log.log_event("send", "AWS TinyLlama", messages=2)
        finally:
            log.logger.propagate = False
    assert event_fields(caplog.records[-1]) == {
        "event": "send", "backend": "AWS TinyLlama", "messages": 2,
    }  # fmt: skip
