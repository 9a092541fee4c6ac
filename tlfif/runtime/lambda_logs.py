"""Logs of a Lambda entry point: one JSON object per line through Powertools' Logger.

The handler logs through its own Powertools Logger (request id, cold start, function name
on every line); the core's stdlib loggers ("tlfif.*") are given the same handler, so their
lines are JSON too. A `log_event` line's fields come out at the top level, as they do off
Lambda (tlfif/runtime/logs.py), so one Logs Insights query reads both.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from tlfif.runtime.logs import FIELDS_ATTR

CORE_LOGGER = "tlfif"


class FlatFieldsFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON, with log_event's fields lifted out of their carrier attribute
    (Powertools would print them nested under it). Powertools' own keys (level, message,
    function_request_id, ...) win over a field of the same name."""

    def serialize(self, log: Any) -> str:
        fields = log.pop(FIELDS_ATTR, None)
        if isinstance(fields, dict):
            log = {**fields, **log}
        return super().serialize(log)


def lambda_logger(service: str) -> Logger:
    """The entry point's logger. On Lambda (or with `route_core=True` in a process of its
    own) the core's loggers write through it; tests keep the stdlib defaults, so pytest's
    capture and other tests' loggers are left alone."""
    logger = Logger(service=service, logger_formatter=FlatFieldsFormatter())
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        route_core_logs(logger)
    return logger


def route_core_logs(logger: Logger) -> None:
    logging.getLogger(CORE_LOGGER)  # the parent of every core module's logger must exist
    copy_config_to_registered_loggers(source_logger=logger, include={CORE_LOGGER})
