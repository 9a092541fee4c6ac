"""`tlfif usage`: GET /usage's month as a table (the estimate said so on stderr), or JSON."""

from __future__ import annotations

from rich.console import Console

from tlfif.usage_contracts import UsageView, UserUsage
from tlfif_cli.parser import build_parser
from tlfif_cli.usage import usage_table

VIEW = UsageView(
    month="2026-12",
    users=[
        UserUsage(sub="alice", prompts=3, prompt_tokens=30, completion_tokens=90,
                  node_seconds=184.25, cost_eur=0.0306),
    ],
)  # fmt: skip


def test_the_table_names_the_month_and_each_figure() -> None:
    console = Console(width=120, record=True)
    console.print(usage_table(VIEW))
    text = console.export_text()
    assert "usage 2026-12" in text and "alice" in text
    assert "184.2" in text and "0.0306" in text and "EUR (est.)" in text


def test_the_command_takes_a_month_and_json() -> None:
    args = build_parser().parse_args(["usage", "--month", "2026-11", "--json"])
    assert (args.command, args.month, args.json) == ("usage", "2026-11", True)
    assert build_parser().parse_args(["usage"]).month is None
