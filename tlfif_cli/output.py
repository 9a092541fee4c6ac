"""How `tlfif` shows answers: the reply text on stdout, everything about it on stderr.

Kept apart so `tlfif infer "..." > answer.txt` captures the model's words only, and
`--json` prints exactly one JSON document a script can parse.
"""

from __future__ import annotations

import sys
from typing import TextIO

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from tlfif.client.phase import DESCRIPTION, phase_of_pending
from tlfif.contracts import (
    BudgetResumed,
    Cancelling,
    NodeInfo,
    NodeStatus,
    Pending,
    Reply,
    Stopping,
    Woken,
)
from tlfif_cli.errors import ExitCode

HOLD_MEANING = {
    "manual": "manual (set by `tlfif stop`; the next `tlfif infer` lifts it)",
    "budget": "budget (the monthly budget is reached: starts are refused)",
}
FAILED_HINT = {
    "expired": "no node took it in time; send it again",
    "error": "the engine failed; send it again, or check the node's logs",
    "cancelled": "it was cancelled",
}
# Where the reply says why (its error_code), a hint for that reason instead.
ERROR_CODE_HINT = {
    "engine_crashed": "change the prompt (as it is, it kills the engine); the node runs on",
    "engine_failed": "send it again to start the node afresh; `tlfif status` shows the error",
    "engine_error": "send it again, or check the node's logs",
}


def consoles() -> tuple[Console, Console]:
    """stdout and stderr, read at call time so a test's captured streams are used."""
    return _plain_console(sys.stdout), _plain_console(sys.stderr)


def _plain_console(stream: TextIO) -> Console:
    # Model output and ids are data, not rich markup: nothing is interpreted or wrapped.
    return Console(file=stream, markup=False, highlight=False, emoji=False, soft_wrap=True)


def write_json(model: BaseModel, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(model.model_dump_json() + "\n")


def print_reply(
    reply: Reply, *, as_json: bool, err: Console, elapsed: float | None, shown: str = ""
) -> ExitCode:
    """The reply's text on stdout (or its JSON), its facts or its failure on stderr.

    `shown` is the text already printed live (tlfif_cli/live.py): it stays when it is the
    reply's text; otherwise the reply follows it whole, so what stdout ends with is the
    stored reply."""
    if shown and not shown.endswith("\n"):
        sys.stdout.write("\n")  # end the live line before anything else is said
        sys.stdout.flush()
    if shown and reply.status == "done" and shown != reply.text:
        err.print("the stored reply differs from the live text above; here it is whole:")
    if as_json:
        write_json(reply)
    if reply.status != "done":
        hint = ERROR_CODE_HINT.get(reply.error_code or "") or FAILED_HINT.get(
            reply.status, "send it again"
        )
        err.print(f"job {reply.id} {reply.status}: {reply.error or 'no reason given'}; {hint}")
        return ExitCode.JOB_FAILED
    if not as_json:
        if shown != reply.text:
            sys.stdout.write(reply.text if reply.text.endswith("\n") else reply.text + "\n")
        sys.stdout.flush()
        err.print(reply_summary(reply, elapsed), style="dim")
    return ExitCode.OK


def reply_summary(reply: Reply, elapsed: float | None) -> str:
    parts = [f"{elapsed:.1f} s in all"] if elapsed is not None else []
    if reply.queued_ms is not None:
        parts.append(f"queued {reply.queued_ms / 1000:.1f} s")
    tokens = reply.usage.completion_tokens
    if reply.latency_ms is not None:
        rate = f", {tokens / (reply.latency_ms / 1000):.1f} tokens/s" if reply.latency_ms else ""
        parts.append(f"latency {reply.latency_ms} ms{rate}")
    parts.append(f"{reply.usage.prompt_tokens} prompt + {tokens} completion tokens")
    if reply.model:
        parts.append(reply.model)
    if reply.finish_reason:
        parts.append(f"finish: {reply.finish_reason}")
    return " · ".join(parts)


def print_pending(pending: Pending, *, as_json: bool, out: Console) -> ExitCode:
    if as_json:
        write_json(pending)
    else:
        out.print(f"{pending.id}: {pending.status}, {DESCRIPTION[phase_of_pending(pending)]}")
    return ExitCode.OK


def print_cancelled(answer: Reply | Cancelling, *, as_json: bool, out: Console) -> ExitCode:
    if as_json:
        write_json(answer)
    elif isinstance(answer, Cancelling):
        out.print(f"{answer.id}: cancelling (its node stops it at its next tokens)")
    else:
        came = f", after {answer.usage.completion_tokens} tokens" if answer.text else ""
        out.print(f"{answer.id}: cancelled{came}")
    return ExitCode.OK


def print_stopping(stopping: Stopping, *, as_json: bool, out: Console) -> ExitCode:
    if as_json:
        write_json(stopping)
    else:
        out.print(
            f"node {stopping.node}: stop requested, manual hold set "
            "(polls will not restart it; the next `tlfif infer` will)"
        )
    return ExitCode.OK


def print_woken(woken: Woken, *, as_json: bool, out: Console) -> ExitCode:
    if as_json:
        write_json(woken)
        return ExitCode.OK
    if woken.node == "ready":
        what = "ready"
    elif woken.node_error:
        what = f"not started: {woken.node_error}"
    elif woken.node in ("stopped", "stopping"):
        what = "not started (the next `tlfif infer` starts it)"
    else:
        what = f"{woken.node}, ready in about {woken.eta} s"
    out.print(f"node {what}; it stops after {woken.idle} idle min if no prompt comes")
    return ExitCode.OK


def print_status(status: NodeStatus, *, as_json: bool, out: Console) -> ExitCode:
    if as_json:
        write_json(status)
        return ExitCode.OK
    table = Table.grid(padding=(0, 2))
    table.add_row("node", status.node)
    for info in status.nodes:
        table.add_row(f"  {info.node}", node_line(info))
    table.add_row("queue depth", str(status.queue_depth))
    table.add_row("your pending jobs", "\n".join(status.pending) or "none")
    table.add_row("hold", HOLD_MEANING.get(status.hold or "", "none"))
    failure = status.start_error
    start_error = f"{failure.code}: {failure.message}" if failure else "none"
    table.add_row("start error", start_error)
    out.print(table)
    return ExitCode.OK


def node_line(info: NodeInfo) -> str:
    """One node under the fleet's word: its phase, and the jobs it runs when it runs any."""
    if not info.active:
        return info.phase
    return f"{info.phase}, {info.active} job{'s' if info.active > 1 else ''} running"


def print_budget_resumed(resumed: BudgetResumed, *, as_json: bool, out: Console) -> ExitCode:
    if as_json:
        write_json(resumed)
    elif resumed.lifted:
        out.print("budget hold lifted: the node may start again (AWS keeps billing as it runs)")
    else:
        out.print(f"no budget hold was set (hold: {HOLD_MEANING.get(resumed.hold or '', 'none')})")
    return ExitCode.OK
