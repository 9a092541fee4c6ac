"""parse_budget_alert: AWS Budgets' plain-text SNS message, and what is not one."""

from __future__ import annotations

import pytest

from tests.doubles.budget_messages import daily_alert, monthly_alert
from tlfif.budget_alert import parse_budget_alert
from tlfif.errors import MalformedAlert


def test_a_monthly_actual_alert() -> None:
    alert = parse_budget_alert(monthly_alert(amount="$1,020.41"))
    assert alert.budget_name == "tl-fif-monthly"
    assert alert.alert_type == "ACTUAL"
    assert alert.threshold_usd == 20.0
    assert alert.amount_usd == 1020.41
    assert alert.account == "123456789012"


def test_the_daily_form_aws_sent() -> None:
    alert = parse_budget_alert(daily_alert())
    assert (alert.budget_name, alert.alert_type, alert.amount_usd) == ("killswitch", "ACTUAL", 1.7)


def test_a_forecast_alert_is_read_as_one() -> None:
    alert = parse_budget_alert(monthly_alert(alert_type="FORECASTED", amount="$25.00"))
    assert alert.alert_type == "FORECASTED"
    assert alert.amount_usd == 25.0


@pytest.mark.parametrize(
    "message",
    [
        "",
        "hello",
        '{"AlarmName": "x", "NewStateValue": "ALARM"}',
        monthly_alert().replace("Budget Name: tl-fif-monthly\n", ""),
        monthly_alert().replace("Alert Type: ACTUAL\n", ""),
        monthly_alert().replace("Alert Type: ACTUAL", "Alert Type: SOMETHING"),
        monthly_alert().replace("AWS Budget Notification", "A Budget Notification"),
    ],
)
def test_anything_else_is_malformed(message: str) -> None:
    with pytest.raises(MalformedAlert):
        parse_budget_alert(message)
