"""Logs of a Lambda entry point: one JSON object per line through Powertools' Logger.

The handler logs through its own Powertools Logger (request id, cold start, function name
on every line); the core's stdlib loggers ("tlfif.*") are given the same handler, so their
lines are JSON too.
"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

CORE_LOGGER = "tlfif"


def lambda_logger(service: str) -> Logger:
    """The entry point's logger. On Lambda (or with `route_core=True` in a process of its
    own) the core's loggers write through it; tests keep the stdlib defaults, so pytest's
    capture and other tests' loggers are left alone."""
    logger = Logger(service=service)
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        route_core_logs(logger)
    return logger


def route_core_logs(logger: Logger) -> None:
    logging.getLogger(CORE_LOGGER)  # the parent of every core module's logger must exist
    copy_config_to_registered_loggers(source_logger=logger, include={CORE_LOGGER})
