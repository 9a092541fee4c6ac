"""One JSON object per log line (stdlib logging), as CloudWatch Logs Insights reads them.

Two ways to add fields: `extra={...}` (the router's access line) or `log_event(logger,
"event", **fields)` (the watcher's events, whose field names may be anything). Callers never
pass a prompt, a reply text or a token.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# What every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Records made by log_event carry their fields under this attribute.
FIELDS_ATTR = "tlfif_fields"
# uvicorn's ANSI-coloured copy of each message.
_DROPPED = {"color_message", FIELDS_ATTR}


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "message", ...fields}; an exception adds "exception"."""

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
        entry.update(getattr(record, FIELDS_ATTR, {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Route the root logger to stdout as JSON lines (Lambda, uvicorn and supervisord all
    ship stdout)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO: on the watcher that is a line per job per engine
    # call, beside the job's own one line. Its warnings still come through.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log `event` with structured fields (camelCase, as the access log's)."""
    logger.log(level, event, extra={FIELDS_ATTR: {"event": event, **fields}})


# What an audit event's `action` may be (ADR 0034); the job's own audit event is its
# `job_answered` line.
AUDIT_ACTIONS = frozenset(
    {"stop", "wake", "cancel", "budget_resume", "key_create", "key_revoke", "budget_stop",
     "self_stop"}
)  # fmt: skip


def log_audit(logger: logging.Logger, action: str, sub: str, outcome: str, **ids: Any) -> None:
    """One `audit` event: who (`sub`: the caller's, or "budget" / the node for automatic
    actions) did what, how it ended, and the ids it touched; never a secret or a prompt."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    log_event(logger, "audit", action=action, sub=sub, outcome=outcome, **ids)


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record made by log_event (for readers such as tests)."""
    fields: dict[str, Any] = getattr(record, FIELDS_ATTR, {"event": record.getMessage()})
    return fields
