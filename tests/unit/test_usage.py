"""tlfif/usage.py: a job added to its user's month once, the month parsed or refused with
its field named, and the view."""

from __future__ import annotations

import pytest

from tlfif.errors import InvalidInput
from tlfif.settings import DEFAULT_NODE_HOUR_EUR
from tlfif.usage import add_once, idle_mark, parse_month, sub_of_key, usage_key, usage_view
from tlfif.usage_contracts import UsageDelta
from tlfif_cli.bill_model import PriceTable

JOB = UsageDelta(prompts=1, prompt_tokens=5, completion_tokens=7, node_seconds=2.5, cost_eur=0.1)


def test_a_job_is_added_once_and_its_idle_tail_apart() -> None:
    first = add_once(None, "job-1", JOB)
    assert add_once(first, "job-1", JOB) is first  # a redelivered job
    tail = add_once(first, idle_mark("job-1"), UsageDelta(node_seconds=60, cost_eur=0.01))
    assert (tail.prompts, tail.completion_tokens, tail.node_seconds) == (1, 7, 62.5)
    assert tail.counted == ["job-1", "idle:job-1"]


def test_keys_name_the_month_and_the_sub() -> None:
    key = usage_key("2026-12", "alice")
    assert key == "usage/2026-12/alice.json"
    assert sub_of_key(key, "2026-12") == "alice"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-12", "2026-12-01", "", "now"])
def test_a_malformed_month_is_a_400_naming_month(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_month(bad, 0)
    assert refused.value.field == "month" and refused.value.status == 400


def test_no_month_is_this_utc_month() -> None:
    assert parse_month(None, 1_796_000_000_000) == "2026-11"
    assert parse_month("2026-02", 0) == "2026-02"


def test_the_view_rounds_and_sorts_by_sub() -> None:
    records = {"bob": add_once(None, "j2", JOB), "alice": add_once(None, "j1", JOB)}
    view = usage_view("2026-12", records)
    assert [user.sub for user in view.users] == ["alice", "bob"] and view.estimate


def test_the_default_node_price_is_the_cost_models() -> None:
    """The library cannot read the CLI's price list, so this checks they agree."""
    prices = PriceTable.load()
    usd = prices.usd("ec2.g4dn.xlarge.hour")
    assert pytest.approx(usd / prices.usd_per_eur, abs=0.001) == DEFAULT_NODE_HOUR_EUR
