"""Lambda subscribed to the SNS topic AWS Budgets alerts at 100 % of the monthly budget.

An ACTUAL alert sets the budget hold (every start refused until the month turns or the
owner runs `tlfif budget resume`), stops every running instance tagged as the node, and
emits BudgetStops. A message that is not such an alert is logged and ignored, and stops
nothing; a redelivered message (same SNS MessageId) changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tlfif.aws.ec2 import Ec2Fleet
from tlfif.budget import AlertLedger, enforce_budget
from tlfif.budget_alert import BudgetAlert, parse_budget_alert
from tlfif.errors import MalformedAlert
from tlfif.nodes import NodeRegistry
from tlfif.ports import NodeFleet
from tlfif.redis_conn import RedisClient, connect
from tlfif.runtime.lambda_logs import lambda_logger
from tlfif.runtime.logs import log_audit
from tlfif.runtime.metrics import EmfMetrics
from tlfif.runtime.warm import Warm
from tlfif.settings import BudgetSettings, CommonSettings

logger = lambda_logger("budget_killer")
# Under the Powertools logger's own, so its lines carry the invocation's context.
audit_log = logging.getLogger("budget_killer.audit")
# Longer than SNS keeps retrying a delivery.
ALERT_MEMORY_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Killer:
    settings: BudgetSettings
    redis: RedisClient
    registry: NodeRegistry
    alerts: AlertLedger
    fleet: NodeFleet
    metrics: EmfMetrics

    async def aclose(self) -> None:
        await self.redis.aclose()


def build() -> Killer:
    common, settings = CommonSettings.load(), BudgetSettings.load()
    redis = connect(common.redis_url, cluster=common.redis_cluster)
    return Killer(
        settings,
        redis,
        NodeRegistry(redis),
        AlertLedger(redis),
        Ec2Fleet(common),
        EmfMetrics("budget_killer"),
    )


warm = Warm(build)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    killer = warm.get()
    results = [warm.run(act_on(killer, record)) for record in records_of(event)]
    return {"results": results}


def records_of(event: Any) -> list[dict[str, Any]]:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        logger.warning("event without SNS records ignored")
        return []
    return [record if isinstance(record, dict) else {} for record in records]


async def act_on(killer: Killer, record: dict[str, Any]) -> dict[str, Any]:
    sns = record.get("Sns") if record.get("EventSource") == "aws:sns" else None
    message_id = str(sns.get("MessageId", "")) if isinstance(sns, dict) else ""
    try:
        if not isinstance(sns, dict):
            raise MalformedAlert("not an SNS record")
        alert = parse_budget_alert(sns.get("Message", ""))
    except MalformedAlert as exc:
        logger.warning("message ignored", extra={"messageId": message_id, "reason": exc.message})
        return {"action": "ignored", "reason": exc.message}
    reason = ignore_reason(killer.settings, alert)
    if reason:
        logger.info("alert ignored", extra={"budget": alert.budget_name, "reason": reason})
        return {"action": "ignored", "reason": reason}
    if message_id and await killer.alerts.seen(message_id):
        logger.info("alert acted on already", extra={"messageId": message_id})
        return {"action": "duplicate", "messageId": message_id}
    stopped = await enforce_budget(killer.registry, killer.fleet, killer.metrics, datetime.now(UTC))
    if message_id:
        await killer.alerts.remember(message_id, ALERT_MEMORY_SECONDS)
    logger.warning(
        "budget hold set",
        extra={"budget": alert.budget_name, "amountUsd": alert.amount_usd, "stopped": stopped},
    )
    log_audit(audit_log, "budget_stop", "budget", "hold_set", stopped=stopped)
    return {"action": "hold", "budget": alert.budget_name, "stopped": stopped}


def ignore_reason(settings: BudgetSettings, alert: BudgetAlert) -> str | None:
    if alert.alert_type != "ACTUAL":
        return f"a {alert.alert_type} alert is a forecast, not spend"
    if settings.name and alert.budget_name != settings.name:
        return f"budget {alert.budget_name!r} is not {settings.name!r}"
    return None
