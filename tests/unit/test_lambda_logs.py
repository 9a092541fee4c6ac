"""On Lambda a log_event line's fields are top-level keys (Powertools would nest them under
the carrier attribute), so one Logs Insights query reads the node's lines and the Lambdas'."""

from __future__ import annotations

import io
import json
import logging

from tlfif.runtime.lambda_logs import FlatFieldsFormatter, lambda_logger
from tlfif.runtime.logs import FIELDS_ATTR, log_event


def test_a_log_event_line_on_lambda_has_its_fields_at_the_top() -> None:
    stream = io.StringIO()
    logger = lambda_logger("test_flat")
    assert isinstance(logger.registered_formatter, FlatFieldsFormatter)
    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    child = logging.getLogger("test_flat.audit")  # a module logger under the handler's
    log_event(child, "audit", action="stop", sub="owner-1", outcome="stopped", service="x")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["event"] == "audit" and line["action"] == "stop" and line["sub"] == "owner-1"
    assert FIELDS_ATTR not in line
    assert line["level"] == "INFO" and line["service"] == "test_flat"  # Powertools' keys win
    logger.info("plain", extra={"sub": "s"})  # an `extra=` line is unchanged
    assert json.loads(stream.getvalue().splitlines()[-1])["sub"] == "s"
