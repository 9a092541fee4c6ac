"""An AWS Budgets alert as it arrives through SNS: plain text, not JSON.

AWS sends (Records[0].Sns.Message; Subject "AWS Budgets: <name> has exceeded your alert
threshold"):

    AWS Budget Notification November 23, 2025
    AWS Account 123456789012

    Dear AWS Customer,

    You requested that we alert you when the ACTUAL Cost associated with your tl-fif-monthly
    budget is greater than $20.00 for the current month. ...

    Budget Name: tl-fif-monthly
    Budget Type: Cost
    Budgeted Amount: $20.00
    Alert Type: ACTUAL
    Alert Threshold: > $20.00
    ACTUAL Amount: $20.41

Only a message that names itself an AWS Budget Notification and carries these fields is
an alert: a future change of format, or any other message on the topic, must not stop the
node by accident.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from tlfif.errors import MalformedAlert

ANCHOR = "AWS Budget Notification"
_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.+?)\s*$", re.MULTILINE)
_ACCOUNT = re.compile(r"^\s*AWS Account (\d{12})\s*$", re.MULTILINE)
_DOLLARS = re.compile(r"\$\s*([0-9][0-9,]*(?:\.[0-9]+)?)")


class BudgetAlert(BaseModel):
    budget_name: str
    alert_type: Literal["ACTUAL", "FORECASTED"]
    threshold_usd: float | None
    amount_usd: float | None
    account: str | None


def parse_budget_alert(message: str) -> BudgetAlert:
    """Raises MalformedAlert for anything that is not an AWS Budgets alert."""
    if not isinstance(message, str) or ANCHOR not in message:
        raise MalformedAlert(f"not an AWS Budgets alert (no {ANCHOR!r} line)")
    fields = {key.strip().lower(): value for key, value in _FIELD.findall(message)}
    name = fields.get("budget name")
    alert_type = (fields.get("alert type") or "").upper()
    if not name:
        raise MalformedAlert("AWS Budgets alert without a Budget Name line")
    if alert_type not in ("ACTUAL", "FORECASTED"):
        raise MalformedAlert(f"AWS Budgets alert with Alert Type {alert_type or 'missing'!r}")
    account = _ACCOUNT.search(message)
    return BudgetAlert(
        budget_name=name,
        alert_type=alert_type,
        threshold_usd=_dollars(fields.get("alert threshold")),
        amount_usd=_dollars(fields.get(f"{alert_type.lower()} amount")),
        account=account.group(1) if account else None,
    )


def _dollars(text: str | None) -> float | None:
    found = _DOLLARS.search(text or "")
    return float(found.group(1).replace(",", "")) if found else None
