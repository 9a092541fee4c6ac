"""`tlfif keys create NAME | list | revoke NAME-or-ID`: the owner's API keys (ADR 0027).

The secret goes to stdout alone (so `tlfif keys create ci > key.txt` keeps only it), once;
how to use it goes to stderr.
"""

from __future__ import annotations

import time

from rich.table import Table

from tlfif.api_key_contracts import KeyView
from tlfif_cli.context import Context
from tlfif_cli.errors import ExitCode
from tlfif_cli.output import write_json


def cmd_keys(ctx: Context) -> ExitCode:
    action = ctx.args.keys_command
    with ctx.client() as api:
        if action == "create":
            created = api.create_key(ctx.args.name)
            if ctx.args.json:
                write_json(created)
                return ExitCode.OK
            ctx.out.print(created.secret)
            ctx.err.print(
                f"API key {created.name} ({created.id}) made; it is shown this once, so keep "
                "it now. Use it as an OpenAI client's api_key with base_url "
                f"{api.api_url}/api-key/v1; `tlfif keys revoke {created.name}` stops it."
            )
            return ExitCode.OK
        if action == "list":
            listed = api.list_keys()
            if ctx.args.json:
                write_json(listed)
            elif not listed.keys:
                ctx.err.print("no API keys; `tlfif keys create NAME` makes one")
            else:
                ctx.out.print(_table(listed.keys))
            return ExitCode.OK
        revoked = api.revoke_key(ctx.args.key)
    if ctx.args.json:
        write_json(revoked)
    else:
        ctx.out.print(f"API key {revoked.name} ({revoked.id}) revoked")
    return ExitCode.OK


def _table(keys: list[KeyView]) -> Table:
    table = Table("name", "id", "created", "last used", box=None, pad_edge=False)
    for key in keys:
        table.add_row(key.name, key.id, _when(key.created_ms), _when(key.last_used_ms))
    return table


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000))
