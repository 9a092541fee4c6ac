"""Lambda on an EventBridge schedule: month-to-date spend -> Redis (GET /cost) + metric.

Emits TLFIF/Cost CurrentSpendEUR (an EMF line) whenever a new figure was read. When no
source may be asked now (Budgets unavailable and Cost Explorer not due) nothing is emitted;
when a source fails the error is logged and raised, so the invocation fails: never a 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tlfif.aws.billing import BudgetsSpend, CostExplorerSpend, SsmRate, account_id_of
from tlfif.errors import TlfifError
from tlfif.redis_conn import RedisClient, connect
from tlfif.runtime.lambda_logs import lambda_logger
from tlfif.runtime.metrics import EmfMetrics
from tlfif.runtime.warm import Warm
from tlfif.settings import CommonSettings, CostSettings
from tlfif.spend import BilledSpend, CostPublisher, CostStore

logger = lambda_logger("cost_publisher")
SPEND_NAMESPACE = "TLFIF/Cost"
SPEND_METRIC = "CurrentSpendEUR"


@dataclass
class AccountId:
    """The configured account, else the Lambda's own (from the invocation's ARN, else STS)."""

    configured: str
    function_arn: str | None = None
    _resolved: str | None = field(default=None, repr=False)

    def __call__(self) -> str:
        if self._resolved is None:
            self._resolved = self.configured or account_id_of(self.function_arn)
        return self._resolved


@dataclass(frozen=True)
class Publisher:
    publisher: CostPublisher
    account: AccountId
    redis: RedisClient
    metrics: EmfMetrics

    async def aclose(self) -> None:
        await self.redis.aclose()


def build() -> Publisher:
    common, settings = CommonSettings.load(), CostSettings.load()
    redis = connect(common.redis_url, cluster=common.redis_cluster)
    account = AccountId(settings.account_id)
    budgets = BudgetsSpend(settings.budget_name, account) if settings.budget_name else None
    rate = (
        SsmRate(settings.usd_to_eur_parameter, common.region)
        if settings.usd_to_eur_parameter
        else (lambda: settings.usd_to_eur)
    )
    publisher = CostPublisher(
        CostStore(redis),
        budgets,
        CostExplorerSpend(),
        rate,
        explorer_interval_seconds=int(settings.explorer_min_interval_hours * 3600),
        node_hourly_usd=settings.node_hourly_usd,
    )
    return Publisher(publisher, account, redis, EmfMetrics("cost_publisher", SPEND_NAMESPACE))


warm = Warm(build)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    app = warm.get()
    app.account.function_arn = getattr(context, "invoked_function_arn", None)
    try:
        figure = warm.run(app.publisher.publish())
    except TlfifError as exc:
        logger.error("spend not published", extra={"code": exc.code, "error": exc.message})
        raise
    if figure is None:
        return {"published": False}
    app.metrics.record(SPEND_METRIC, figure.eur)
    return {"published": True, **summary(figure)}


def summary(figure: BilledSpend) -> dict[str, Any]:
    return figure.model_dump(include={"eur", "usd", "usd_to_eur", "source", "month", "as_of_ms"})
