"""cost_publisher Lambda against moto's Budgets, Cost Explorer and SSM, real redis-server.

The metric is read back from the EMF line on stdout; the figure from Redis, where GET /cost
reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from cost_publisher import handler as cost_publisher
from tests.doubles.lambda_context import ACCOUNT, LambdaContextDouble
from tests.fixtures.emf import emf_records, metric_values
from tests.fixtures.lambdas import fresh
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import PASSWORD, RedisServer
from tlfif import keys
from tlfif.errors import SpendUnavailable
from tlfif.spend import BilledSpend

EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
BUDGET = "tl-fif-monthly"


@pytest.fixture
def publisher(aws: str, redis_server: RedisServer, lambda_env: pytest.MonkeyPatch) -> Iterator[Any]:
    lambda_env.setenv("TLFIF_REDIS_URL", redis_server.url)
    yield from fresh(cost_publisher)


def create_budget(actual_usd: str, name: str = BUDGET) -> None:
    boto3.client("budgets", region_name="us-east-1").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": name,
            "BudgetLimit": {"Amount": "20", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CalculatedSpend": {
                "ActualSpend": {"Amount": actual_usd, "Unit": "USD"},
                "ForecastedSpend": {"Amount": "30", "Unit": "USD"},
            },
        },
    )


def queue_cost_explorer_result(moto_url: str, unblended_usd: str) -> None:
    """moto's Cost Explorer answers what its API is told to (it tracks no cost itself)."""
    result = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2025-11-01", "End": "2025-12-01"},
                "Total": {"UnblendedCost": {"Amount": unblended_usd, "Unit": "USD"}},
                "Groups": [],
                "Estimated": True,
            }
        ],
        "DimensionValueAttributes": [],
    }
    httpx.post(
        f"{moto_url}/moto-api/static/ce/cost-and-usage-results", json={"results": [result]}
    ).raise_for_status()


def stored(server: RedisServer) -> BilledSpend | None:
    import redis

    with redis.Redis(port=server.port, password=PASSWORD, decode_responses=True) as client:
        body = client.get(keys.COST)
    return BilledSpend.model_validate_json(body) if body else None


def test_budgets_serve_the_metric_and_the_stored_figure(
    publisher: Any, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    create_budget("12.34")
    result = cost_publisher.handler(EVENT, LambdaContextDouble())
    assert result["published"] is True
    assert (result["usd"], result["eur"], result["source"]) == (12.34, 11.35, "budgets")
    out = capsys.readouterr().out
    assert metric_values(out, "CurrentSpendEUR", namespace="TLFIF/Cost") == [11.35]
    [record] = [r for r in emf_records(out) if "CurrentSpendEUR" in r]
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert directive["Metrics"] == [{"Name": "CurrentSpendEUR", "Unit": "None"}]
    figure = stored(redis_server)
    assert figure is not None
    assert (figure.eur, figure.usd, figure.usd_to_eur, figure.source) == (
        11.35, 12.34, 0.92, "budgets",
    )  # fmt: skip
    assert figure.node_hourly_usd == 0.658


def test_the_rate_from_an_ssm_parameter(
    publisher: Any, lambda_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    create_budget("12.34")
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/tl-fif/usd-to-eur", Value="0.9", Type="String"
    )
    lambda_env.setenv("TLFIF_COST_USD_TO_EUR_PARAMETER", "/tl-fif/usd-to-eur")
    assert cost_publisher.handler(EVENT, LambdaContextDouble())["eur"] == 11.11  # 12.34 x 0.9
    out = capsys.readouterr().out
    assert metric_values(out, "CurrentSpendEUR", namespace="TLFIF/Cost") == [11.11]


def test_cost_explorer_where_no_budget_serves_at_most_once_per_interval(
    publisher: Any, aws: str, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_cost_explorer_result(aws, "3.21")  # and no budget of that name exists
    first = cost_publisher.handler(EVENT, LambdaContextDouble())
    assert first["published"] is True and first["source"] == "cost_explorer"
    assert first["eur"] == 2.95  # 3.21 x 0.92 = 2.9532
    assert metric_values(capsys.readouterr().out, "CurrentSpendEUR", "TLFIF/Cost") == [2.95]
    for _ in range(3):  # the next scheduled runs: Cost Explorer is not due
        assert cost_publisher.handler(EVENT, LambdaContextDouble()) == {"published": False}
    assert metric_values(capsys.readouterr().out, "CurrentSpendEUR", "TLFIF/Cost") == []
    figure = stored(redis_server)
    assert figure is not None and figure.eur == 2.95


def test_an_error_is_raised_and_never_published_as_zero(
    publisher: Any, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # No budget, and moto's Cost Explorer with nothing queued returns no results at all.
    with pytest.raises(SpendUnavailable, match="no results"):
        cost_publisher.handler(EVENT, LambdaContextDouble())
    out = capsys.readouterr().out
    assert metric_values(out, "CurrentSpendEUR", namespace="TLFIF/Cost") == []
    assert stored(redis_server) is None
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [error] = [line for line in lines if line.get("message") == "spend not published"]
    assert (error["level"], error["code"]) == ("ERROR", "spend_unavailable")


def test_a_non_usd_budget_is_not_taken(publisher: Any, aws: str) -> None:
    boto3.client("budgets", region_name="us-east-1").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": BUDGET,
            "BudgetLimit": {"Amount": "20", "Unit": "EUR"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CalculatedSpend": {"ActualSpend": {"Amount": "5", "Unit": "EUR"}},
        },
    )
    queue_cost_explorer_result(aws, "6.00")
    result = cost_publisher.handler(EVENT, LambdaContextDouble())
    assert result["source"] == "cost_explorer" and result["usd"] == 6.0
