"""Lambda behind API Gateway's GET /queue-health: is Redis up, and fast (the seed's RED-004).

200 {"redis": "ok", "latencyMs": x}; 503 with the reason when Redis fails, does not answer,
or answers PING slower than TLFIF_HEALTH_MAX_MS (200 ms). Every check publishes
QueueHealthFailed 0 or 1 (EMF), which the queue-health alarm sums (ADR 0033). The check
itself is the core's (tlfif/health.py); the Redis client lives across warm invocations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tlfif.contracts import QueueHealth
from tlfif.health import check_queue
from tlfif.redis_conn import RedisClient, connect
from tlfif.runtime.lambda_logs import lambda_logger
from tlfif.runtime.metrics import EmfMetrics
from tlfif.runtime.warm import Warm
from tlfif.settings import CommonSettings, HealthSettings

logger = lambda_logger("queue_health")
RETRY_AFTER_SECONDS = 5
FAILED_METRIC = "QueueHealthFailed"


@dataclass(frozen=True)
class Probe:
    settings: HealthSettings
    redis: RedisClient
    metrics: EmfMetrics

    async def aclose(self) -> None:
        await self.redis.aclose()


def build() -> Probe:
    common = CommonSettings.load()
    redis = connect(common.redis_url, cluster=common.redis_cluster)
    return Probe(HealthSettings.load(), redis, EmfMetrics("queue_health"))


warm = Warm(build)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    probe = warm.get()
    health = warm.run(check_queue(probe.redis, probe.settings.max_ms))
    # 0 as well as 1: the alarm's Sum needs no missing-data rule while checks run.
    probe.metrics.count(FAILED_METRIC, 0.0 if health.ok else 1.0)
    if not health.ok:
        logger.warning("queue unhealthy", extra={"reason": health.reason})
    return http_response(health)


def http_response(health: QueueHealth) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) proxy response."""
    headers = {"Content-Type": "application/json"}
    if not health.ok:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    body = health.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        "statusCode": 200 if health.ok else 503,
        "headers": headers,
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
