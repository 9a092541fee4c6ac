"""`tlfif usage [--month YYYY-MM] [--json]`: a month's prompts, tokens, node-seconds and
estimated cost (GET /usage, ADR 0034): yours, or every user's for the owner."""

from __future__ import annotations

from rich.table import Table

from tlfif.usage_contracts import UsageView
from tlfif_cli.context import Context
from tlfif_cli.errors import ExitCode
from tlfif_cli.output import write_json


def cmd_usage(ctx: Context) -> ExitCode:
    with ctx.client() as api:
        view = api.usage(ctx.args.month)
    if ctx.args.json:
        write_json(view)
        return ExitCode.OK
    if not view.users:
        ctx.err.print(f"no usage in {view.month}")
        return ExitCode.OK
    ctx.out.print(usage_table(view))
    ctx.err.print("an estimate: node-seconds at the node's hourly price; `tlfif cost` for the bill")
    return ExitCode.OK


def usage_table(view: UsageView) -> Table:
    table = Table(
        "user", "prompts", "prompt tokens", "completion tokens", "node-seconds", "EUR (est.)",
        title=f"usage {view.month}", box=None, pad_edge=False,
    )  # fmt: skip
    for user in view.users:
        table.add_row(
            user.sub, str(user.prompts), str(user.prompt_tokens), str(user.completion_tokens),
            f"{user.node_seconds:.1f}", f"{user.cost_eur:.4f}",
        )  # fmt: skip
    return table
