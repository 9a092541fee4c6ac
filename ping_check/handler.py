"""Lambda on an EventBridge schedule (each minute), outside the VPC: the uptime probe.

GETs the public API's /ping (and /queue-health) as any client would and publishes PingOk
as EMF; the ping-dead alarm fires when it is 0 or missing (ADR 0033). The probe itself is
the core's (tlfif/probe.py). Cheaper than a Synthetics canary by two orders of magnitude.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

from tlfif.probe import check_uptime
from tlfif.runtime.lambda_logs import lambda_logger
from tlfif.runtime.metrics import EmfMetrics
from tlfif.settings import PingSettings

logger = lambda_logger("ping_check")


@cache
def settings() -> PingSettings:
    return PingSettings.load()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = check_uptime(settings(), EmfMetrics("ping_check"))
    fields = asdict(report)
    if report.ping.ok:
        logger.info("ping ok", extra=fields)
    else:
        logger.warning("ping failed", extra=fields)
    return fields
