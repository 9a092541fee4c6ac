"""Each user's month of usage (ADR 0034): the record's key, how a job is added to it
(once), and how the records become GET /usage's view.
"""

from __future__ import annotations

from tlfif.errors import InvalidInput
from tlfif.spend import month_of
from tlfif.usage_contracts import MONTH_RE, UsageDelta, UsageRecord, UsageView, UserUsage

USAGE_PREFIX = "usage/"


def usage_key(month: str, sub: str) -> str:
    return f"{USAGE_PREFIX}{month}/{sub}.json"


def month_prefix(month: str) -> str:
    return f"{USAGE_PREFIX}{month}/"


def sub_of_key(key: str, month: str) -> str:
    """The sub a usage key names (usage/<month>/<sub>.json)."""
    return key.removeprefix(month_prefix(month)).removesuffix(".json")


def idle_mark(job_id: str) -> str:
    """What `counted` holds for a job's idle tail, beside the job's own id."""
    return f"idle:{job_id}"


def add_once(record: UsageRecord | None, mark: str, delta: UsageDelta) -> UsageRecord:
    """`record` with `delta` added, unless `mark` was counted already (then unchanged)."""
    current = record or UsageRecord()
    if mark in current.counted:
        return current
    return UsageRecord(
        prompts=current.prompts + delta.prompts,
        prompt_tokens=current.prompt_tokens + delta.prompt_tokens,
        completion_tokens=current.completion_tokens + delta.completion_tokens,
        node_seconds=current.node_seconds + delta.node_seconds,
        cost_eur=current.cost_eur + delta.cost_eur,
        counted=[*current.counted, mark],
    )


def parse_month(value: str | None, now_ms: int) -> str:
    """?month=YYYY-MM, or this UTC month; anything else is a 400 naming `month`."""
    if value is None:
        return month_of(now_ms)
    if not MONTH_RE.match(value):
        raise InvalidInput("month: expected YYYY-MM, e.g. 2026-12", field="month")
    return value


def usage_view(month: str, records: dict[str, UsageRecord]) -> UsageView:
    users = [
        UserUsage(
            sub=sub,
            prompts=record.prompts,
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            node_seconds=round(record.node_seconds, 1),
            cost_eur=round(record.cost_eur, 4),
        )
        for sub, record in sorted(records.items())
    ]
    return UsageView(month=month, users=users)
