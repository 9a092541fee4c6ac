"""tlfif_cli/bill_model.py, figured as `tlfif cost` does: for any deployment the variables
allow and any month of use, with the free tier on or off, more sessions or longer ones
never make the all-in month cheaper, and the idle floor, what a month of no sessions
costs, does not depend on how many sessions there are.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tlfif_cli.bill_model import Deployment, Estimate, PriceTable, Usage, estimate, tlfif_lines

PRICES = PriceTable.load()


def priced(prefix: str, suffix: str) -> list[str]:
    """The types the price table has a price for, e.g. every ec2.<type>.hour."""
    return [m[len(prefix) : -len(suffix)] for m in PRICES.prices if m.startswith(prefix)]


def deployments() -> st.SearchStrategy[Deployment]:
    """Every variable the bill reads, within infra/variables.tf's validations. Named, so a
    field added with a default keeps its default until it is added here."""
    variables: dict[str, st.SearchStrategy[Any]] = {
        "node_instance_type": st.sampled_from(priced("ec2.", ".hour")),
        "node_root_volume_gb": st.integers(20, 200),
        "ami_keep": st.integers(0, 5),
        "redis_mode": st.sampled_from(["serverless", "node"]),
        "redis_node_type": st.sampled_from(priced("elasticache.node.valkey.", ".hour")),
        "router_ec2_path": st.sampled_from(["dualstack", "endpoint"]),
        "availability_zones": st.integers(2, 4),
        "router_memory_mb": st.integers(128, 10240),
        "cost_publish_hours": st.floats(1, 24),
        "scheduled_check_minutes": st.floats(1, 60),
        "enable_cloudtrail": st.booleans(),
        "enable_config_rules": st.booleans(),
        "enable_dr_test": st.booleans(),
    }
    if "redis_node_replicas" in {f.name for f in fields(Deployment)}:
        variables["redis_node_replicas"] = st.integers(0, 1)
    return st.builds(Deployment, **variables)


# The ranges `tlfif cost --sessions --minutes` accepts; a job asks for 1 to 30 idle minutes.
usages = st.builds(
    Usage,
    sessions=st.integers(0, 10_000),
    minutes=st.floats(0, 1440),
    idle_minutes=st.floats(1, 30),
)


def month(d: Deployment, usage: Usage, free_tier: bool) -> Estimate:
    return estimate(tlfif_lines(d, usage), PRICES, usage, free_tier)


@given(deployments(), usages, st.integers(1, 10_000), st.booleans())
def test_more_sessions_never_cost_less(
    d: Deployment, usage: Usage, more: int, free_tier: bool
) -> None:
    fewer = month(d, usage, free_tier)
    busier = month(d, replace(usage, sessions=usage.sessions + more), free_tier)
    assert busier.all_in_eur >= fewer.all_in_eur
    assert busier.idle_floor_eur == fewer.idle_floor_eur


@given(deployments(), usages, st.floats(0, 1440), st.booleans())
def test_longer_sessions_never_cost_less(
    d: Deployment, usage: Usage, more: float, free_tier: bool
) -> None:
    shorter = month(d, usage, free_tier)
    longer = month(d, replace(usage, minutes=usage.minutes + more), free_tier)
    assert longer.all_in_eur >= shorter.all_in_eur


@given(deployments(), usages, st.booleans())
def test_the_idle_floor_is_what_a_month_of_no_sessions_costs(
    d: Deployment, usage: Usage, free_tier: bool
) -> None:
    used = month(d, usage, free_tier)
    unused = month(d, replace(usage, sessions=0), free_tier)
    assert used.idle_floor_eur == unused.idle_floor_eur == unused.all_in_eur
    assert used.all_in_eur >= used.idle_floor_eur
