"""SpendSource on AWS Budgets and Cost Explorer, and the EUR rate from SSM (boto3).

Both billing APIs are global, served from us-east-1 whatever region the stack runs in.
boto3 is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from tlfif.errors import ConfigError, SpendUnavailable

BILLING_REGION = "us-east-1"


class BudgetsSpend:
    """DescribeBudget's CalculatedSpend.ActualSpend: month-to-date, no per-call charge.

    Serves only for a monthly COST budget with unblended, unamortised costs: anything else
    is not the month-to-date unblended spend, and Cost Explorer is asked instead.
    """

    name = "budgets"

    def __init__(self, budget_name: str, account_id: Callable[[], str]) -> None:
        self.budget_name = budget_name
        self._account_id = account_id
        self._client: Any = None

    def month_to_date_usd(self) -> float:
        action = f"DescribeBudget {self.budget_name}"
        with billing_errors(action):
            if self._client is None:
                self._client = billing_client("budgets")
            budget = self._client.describe_budget(
                AccountId=self._account_id(), BudgetName=self.budget_name
            )["Budget"]
        if budget.get("BudgetType") != "COST" or budget.get("TimeUnit") != "MONTHLY":
            raise SpendUnavailable(f"{action}: not a monthly COST budget")
        cost_types = budget.get("CostTypes", {})
        if cost_types.get("UseBlended") or cost_types.get("UseAmortized"):
            raise SpendUnavailable(f"{action}: counts blended or amortised, not unblended cost")
        actual = budget.get("CalculatedSpend", {}).get("ActualSpend")
        if not actual:
            raise SpendUnavailable(f"{action}: no CalculatedSpend yet")
        return usd_amount(actual, action)


class CostExplorerSpend:
    """GetCostAndUsage, UnblendedCost, this UTC month. Billed $0.01 per request."""

    name = "cost_explorer"

    def __init__(self, today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self._today = today
        self._client: Any = None

    def month_to_date_usd(self) -> float:
        start, end = month_bounds(self._today())
        with billing_errors("GetCostAndUsage"):
            if self._client is None:
                self._client = billing_client("ce")
            response = self._client.get_cost_and_usage(
                TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
                Granularity="MONTHLY",
                Metrics=["UnblendedCost"],
            )
        results = response.get("ResultsByTime", [])
        if not results:
            raise SpendUnavailable(f"GetCostAndUsage gave no results for {start:%Y-%m}")
        try:
            amounts = [result["Total"]["UnblendedCost"] for result in results]
        except KeyError as exc:
            raise SpendUnavailable(f"GetCostAndUsage result without {exc}") from None
        return sum(usd_amount(amount, "GetCostAndUsage") for amount in amounts)


def month_bounds(today: date) -> tuple[date, date]:
    """This month's first day and the next month's (Cost Explorer's End is exclusive)."""
    start = today.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else (start.replace(month=start.month + 1))
    )
    return start, end


def usd_amount(spend: dict[str, Any], action: str) -> float:
    """{"Amount": "12.34", "Unit": "USD"} -> 12.34; anything else is no figure at all."""
    if spend.get("Unit") != "USD":
        raise SpendUnavailable(f"{action}: spend in {spend.get('Unit')!r}, not USD")
    try:
        amount = float(spend["Amount"])
    except (KeyError, TypeError, ValueError):
        raise SpendUnavailable(f"{action}: no numeric Amount in {spend!r}") from None
    if not math.isfinite(amount):
        raise SpendUnavailable(f"{action}: Amount {amount} is not a number")
    return amount


class SsmRate:
    """EUR per USD from an SSM String parameter, such as "0.92"."""

    def __init__(self, parameter: str, region: str) -> None:
        self.parameter = parameter
        self.region = region

    def __call__(self) -> float:
        import boto3

        with billing_errors(f"GetParameter {self.parameter}"):
            value = boto3.client("ssm", region_name=self.region).get_parameter(Name=self.parameter)[
                "Parameter"
            ]["Value"]
        try:
            rate = float(value)
        except ValueError:
            rate = math.nan
        if not math.isfinite(rate) or not 0 < rate <= 10:
            raise ConfigError(f"SSM parameter {self.parameter} is {value!r}, not a EUR/USD rate")
        return rate


def account_id_of(function_arn: str | None) -> str:
    """The account of a Lambda (arn:aws:lambda:region:ACCOUNT:function:name), else STS's."""
    parts = (function_arn or "").split(":")
    if len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    import boto3

    with billing_errors("GetCallerIdentity"):
        return str(boto3.client("sts", region_name=BILLING_REGION).get_caller_identity()["Account"])


def billing_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 2}
    )
    return boto3.client(service, region_name=BILLING_REGION, config=config)


@contextmanager
def billing_errors(action: str) -> Iterator[None]:
    """Any failure of one billing call is SpendUnavailable, naming the call."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SpendUnavailable(
            f"{action} failed: {error.get('Code', 'Unknown')}: {error.get('Message', '')}"
        ) from exc
    except BotoCoreError as exc:
        raise SpendUnavailable(f"{action} failed: {exc}") from exc
