"""The GUI's log: TL-FIF's one JSON line format (tlfif/runtime/logs.py) on stderr, each line
naming the backend it is about.

Like every TL-FIF log, it never holds a prompt, a reply's text or a token.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from tlfif.runtime import logs

LOGGER_NAME = "tlfif.gui"

logger = logging.getLogger(LOGGER_NAME)


def setup(level: int = logging.INFO) -> None:
    """Once, at start: JSON lines on stderr for the GUI's logger only (stdout is the
    terminal the window was started from)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logs.JsonFormatter())
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def log_event(event: str, backend: str, *, level: int = logging.INFO, **fields: Any) -> None:
    logs.log_event(logger, event, level, backend=backend, **fields)
