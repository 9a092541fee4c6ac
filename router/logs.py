"""The router's logging: the shared JSON lines (tlfif/runtime/logs.py), with uvicorn's own logs
folded in."""

from __future__ import annotations

import logging

from tlfif.runtime.logs import configure_logging as configure_json_logging


def configure_logging(level: int = logging.INFO) -> None:
    configure_json_logging(level)
    # uvicorn gives its loggers plain-text handlers: its server log goes through ours, and
    # its access log is dropped, since RequestContext writes the access line (with requestId).
    server_log = logging.getLogger("uvicorn")
    server_log.handlers.clear()
    server_log.propagate = True
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
