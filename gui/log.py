"""The GUI's log: one JSON object per line on stderr, each naming the backend it is about.

Like every TL-FIF log, it never holds a prompt, a reply's text or a token.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER_NAME = "tlfif.gui"
_FIELDS = "tlfif_fields"

logger = logging.getLogger(LOGGER_NAME)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        line.update(getattr(record, _FIELDS, {}))
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return json.dumps(line, default=str)


def setup(level: int = logging.INFO) -> None:
    """Once, at start: JSON lines on stderr for the GUI's logger only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def log_event(event: str, backend: str, *, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, event, extra={_FIELDS: {"backend": backend, **fields}})
