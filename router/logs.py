"""One JSON object per log line (stdlib logging), as CloudWatch Logs Insights reads them.

Fields passed with `extra=` become keys of the object. Callers never pass a prompt or a
token: the access log carries only requestId, ip, method, route, status and latencyMs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# What every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# uvicorn's ANSI-coloured copy of each message.
_DROPPED = {"color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _DROPPED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Route the root logger to stdout as JSON lines (Lambda and uvicorn both ship stdout)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn gives its loggers plain-text handlers: its server log goes through ours, and
    # its access log is dropped, since RequestContext writes the access line (with requestId).
    server_log = logging.getLogger("uvicorn")
    server_log.handlers.clear()
    server_log.propagate = True
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
