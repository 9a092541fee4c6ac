"""The watcher's log: one JSON object per line, for the CloudWatch agent to ship as is.

Events carry ids, timings and states only; a prompt or a reply text never reaches a log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Records made by log_event carry their fields under this attribute.
FIELDS_ATTR = "tlfif_fields"


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "event", ...fields}; an exception adds "exc"."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(getattr(record, FIELDS_ATTR, {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send every record, the libraries' included, to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log `event` with structured fields (camelCase, as the access log's)."""
    logger.log(level, event, extra={FIELDS_ATTR: fields})


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record made by log_event (for readers such as tests)."""
    fields: dict[str, Any] = getattr(record, FIELDS_ATTR, {})
    return {"event": record.getMessage(), **fields}
