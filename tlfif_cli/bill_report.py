"""`tlfif cost`: the bill model's figures as tables for people and JSON for machines."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tlfif.errors import ConfigError
from tlfif_cli.bill_model import (
    Deployment,
    Estimate,
    PriceTable,
    UnusedWake,
    Usage,
    estimate,
    seed_lines,
    tlfif_lines,
    unused_wake,
)

# The goals, in EUR a month.
GOAL_IDLE_EUR = 12.0
GOAL_ALL_IN_EUR = 16.0
# How a month with N nodes is counted (ADR 0032), said beside its figures.
NODES_ASSUMPTION = (
    "every session is a burst that starts all N nodes: the same work minutes shared among "
    "them, plus each node's own boot and idle tail"
)
# What the figures leave out, said beside them.
NOT_PRICED = (
    "a phone subscribed to the replies topic is billed per SMS and destination country, "
    "not in the figures"
)
# Where `--env NAME` looks for infra/envs/NAME.tfvars: the current folder, then the checkout
# this package was installed from (an editable install); anywhere else, --tfvars says where.
CHECKOUTS = (Path.cwd, lambda: Path(__file__).resolve().parent.parent)


def env_tfvars(env: str) -> Path:
    """infra/envs/<env>.tfvars of a checkout; ConfigError naming --tfvars if there is none."""
    for checkout in CHECKOUTS:
        path = checkout() / "infra" / "envs" / f"{env}.tfvars"
        if path.is_file():
            return path
    raise ConfigError(
        f"no infra/envs/{env}.tfvars here or in the checkout this was installed from: "
        "run it in a TL-FIF checkout, or pass --tfvars PATH"
    )


@dataclass(frozen=True)
class CostReport:
    tfvars: Path
    usage: Usage
    prices: PriceTable
    free_tier: bool
    ours: Estimate
    seed: Estimate
    wake: UnusedWake
    nodes: int
    nodes_given: bool  # --nodes, rather than node_count_max of the tfvars
    extra_node_idle_eur: float  # what one more node adds to the idle floor


def _with_nodes(d: Deployment, nodes: int) -> Deployment:
    return replace(d, node_count_max=nodes)


def build_report(
    env: str = "prod",
    tfvars: Path | None = None,
    usage: Usage | None = None,
    free_tier: bool = True,
    prices: PriceTable | None = None,
    nodes: int | None = None,
) -> CostReport:
    """`nodes` overrides the tfvars' node_count_max: the month with that many nodes."""
    path = tfvars or env_tfvars(env)
    usage = usage or Usage()
    prices = prices or PriceTable.load()
    deployment = Deployment.from_tfvars(path)
    if nodes is not None:
        deployment = _with_nodes(deployment, nodes)
    ours = estimate(tlfif_lines(deployment, usage), prices, usage, free_tier)
    one_more = _with_nodes(deployment, deployment.node_count_max + 1)
    more = estimate(tlfif_lines(one_more, usage), prices, usage, free_tier)
    return CostReport(
        path,
        usage,
        prices,
        free_tier,
        ours,
        estimate(seed_lines(usage), prices, usage, free_tier),
        unused_wake(deployment, prices, usage.idle_minutes),
        deployment.node_count_max,
        nodes is not None,
        more.idle_floor_eur - ours.idle_floor_eur,
    )


def _summary(e: Estimate, usage: Usage) -> dict[str, Any]:
    return {
        "idle_floor_eur_month": round(e.idle_floor_eur, 2),
        "sessions": {
            "count": usage.sessions,
            "minutes": usage.minutes,
            "eur_month": round(e.all_in_eur, 2),
            "usage_only_eur_month": round(e.sessions_eur, 2),
        },
        "free_tier_eur_month": {
            "idle": round(e.free_tier_idle_eur, 2),
            "all_in": round(e.free_tier_all_in_eur, 2),
        },
        "lines": [
            {
                "resource": c.resource,
                "meter": c.meter,
                "idle_eur_month": round(c.idle_eur, 4),
                "sessions_eur_month": round(c.sessions_eur, 4),
            }
            for c in e.lines
        ],
    }


def report_json(report: CostReport) -> str:
    body = _summary(report.ours, report.usage)
    body["seed_design"] = _summary(report.seed, report.usage)
    body["session_node_minutes"] = round(report.usage.fleet_hours(report.nodes) * 60, 2)
    body["nodes"] = {
        "count": report.nodes,
        "from": "--nodes" if report.nodes_given else "node_count_max",
        "one_more_node_idle_eur_month": round(report.extra_node_idle_eur, 2),
        "sessions_assume": NODES_ASSUMPTION,
    }
    body["unused_wake"] = {
        "node_minutes": report.wake.node_minutes,
        "eur": round(report.wake.eur, 4),
    }
    body["not_priced"] = [NOT_PRICED]
    body["free_tier_applied"] = report.free_tier
    body["tfvars"] = str(report.tfvars)
    body["prices"] = {
        "region": report.prices.region,
        "as_of": report.prices.as_of,
        "usd_per_eur": report.prices.usd_per_eur,
    }
    body["goals_met"] = {
        "idle_floor_le_12": report.ours.idle_floor_eur <= GOAL_IDLE_EUR,
        "all_in_le_16": report.ours.all_in_eur <= GOAL_ALL_IN_EUR,
    }
    return json.dumps(body, indent=2)


def _table(title: str, e: Estimate, usage: Usage, free_tier: bool, meters: bool) -> Table:
    """One row per resource; the meter column only where the terminal is wide enough."""
    sessions = f"{usage.sessions} x {usage.minutes:g} min"
    table = Table(title=title, title_justify="left", show_footer=True)
    table.add_column("resource", footer="total (EUR/month)", overflow="fold")
    if meters:
        table.add_column("meter")
    table.add_column("idle EUR/mo", justify="right", footer=f"{e.idle_floor_eur:.2f}")
    table.add_column(f"{sessions} EUR/mo", justify="right", footer=f"{e.sessions_eur:.2f}")
    rows = [(c.resource, c.meter or "free", c.idle_eur, c.sessions_eur) for c in e.lines]
    if free_tier:
        credit = e.free_tier_all_in_eur - e.free_tier_idle_eur
        rows.append(("always-free allowances", "free tier", -e.free_tier_idle_eur, -credit))
    for resource, meter, idle, per_sessions in rows:
        cells = [resource, meter] if meters else [resource]
        table.add_row(*cells, _eur(idle), _eur(per_sessions))
    return table


def _eur(value: float) -> str:
    return f"{value:.2f}" if abs(value) >= 0.005 or value == 0 else f"{value:.4f}"


def _print_nodes(report: CostReport, out: Console) -> None:
    source = "--nodes" if report.nodes_given else "node_count_max"
    counted = (
        f"; {NODES_ASSUMPTION} ({report.usage.fleet_hours(report.nodes) * 60:.1f} node-min "
        "a session)"
        if report.nodes > 1
        else ""
    )
    out.print(
        f"Nodes: {report.nodes} ({source}){counted}. One more node adds "
        f"EUR {report.extra_node_idle_eur:.2f}/month to the idle floor (its stopped root "
        "volume and idle-miss alarm); `--nodes N` prints the month with N."
    )


def print_report(report: CostReport, out: Console) -> None:
    u, ours, seed = report.usage, report.ours, report.seed
    p = report.prices
    out.print(
        f"Prices: {p.region}, as of {p.as_of}, USD {p.usd_per_eur:.2f} = EUR 1; "
        f"design: {report.tfvars}; a session keeps the node up "
        f"{u.node_hours * 60:.1f} min (boot + {u.minutes:g} work + {u.idle_minutes:g} idle)."
    )
    meters = out.width >= 120
    title = "TL-FIF as deployed" + (f", {report.nodes} nodes" if report.nodes > 1 else "")
    out.print(_table(title, ours, u, report.free_tier, meters))
    out.print(
        _table("The seed's own diagram, same usage and prices", seed, u, report.free_tier, meters)
    )
    out.print(
        f"TL-FIF: idle floor EUR {ours.idle_floor_eur:.2f}/month "
        f"(goal <= {GOAL_IDLE_EUR:g}); {u.sessions} sessions of {u.minutes:g} min all-in "
        f"EUR {ours.all_in_eur:.2f}/month (goal <= {GOAL_ALL_IN_EUR:g})."
    )
    out.print(
        f"Seed diagram: idle floor EUR {seed.idle_floor_eur:.2f}/month; all-in "
        f"EUR {seed.all_in_eur:.2f}/month (its KPI: <= 20)."
    )
    _print_nodes(report, out)
    wake = report.wake
    out.print(
        f"Each unused wake-ahead (POST /wake with no prompt after it: boot + {u.idle_minutes:g} "
        f"idle min = {wake.node_minutes:g} min of the node): EUR {wake.eur:.2f}; not in the "
        "figures above (the WakesFollowed metric counts the wakes a prompt followed)."
    )
    out.print(
        "The webhook sender and the replies topic are counted for every reply, each as if its "
        f"prompt named a webhook; {NOT_PRICED}."
    )
    if report.free_tier:
        out.print(
            "Always-free allowances (CloudWatch, Lambda, X-Ray, SNS, KMS; per account) are applied "
            "as a line of their own; `--no-free-tier` prints list prices."
        )
