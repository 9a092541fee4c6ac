"""`tlfif smoke`: is this stack up, how long does a prompt take, does Stop GPU stop it.

Against any profile, with a login or TLFIF_CLI_API_KEY (a pipeline's credential): GET /ping
and /queue-health, optionally a stop first (a cold start), a prompt followed through its
phases, then a stop timed until EC2 says stopping. One record (tlfif_cli/smoke_record.py)
on stdout, as JSON with --json; a failed step ends the run but the record is still printed,
with what was measured, and the exit code is SMOKE_FAILED. A prompt is followed by a stop
whatever became of it, so a failed smoke does not leave a GPU running.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from rich.table import Table

from tlfif.client.api import ApiClient, client_version
from tlfif.client.failures import describe
from tlfif.errors import TlfifError
from tlfif_cli.context import Context
from tlfif_cli.errors import ExitCode
from tlfif_cli.smoke_record import Limits, SmokeRecord, judge
from tlfif_cli.smoke_steps import SmokeSteps

# The longest a smoke waits for its reply: three times the first-token limit, at least this.
REPLY_WAIT_FLOOR_SECONDS = 300.0


def cmd_smoke(ctx: Context) -> ExitCode:
    args = ctx.args
    record = SmokeRecord(
        version=client_version(),
        profile=ctx.profile,
        started_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        limits=Limits(first_token=args.first_token_limit, stop=args.stop_limit),
    )
    with ctx.client() as api:
        run_smoke(ctx, api, record)
    record = judge(record)
    if args.json:
        ctx.out.file.write(record.model_dump_json() + "\n")
        for failure in record.failures:
            ctx.err.print(f"tlfif: smoke: {failure}")
    else:
        print_record(ctx, record)
    return ExitCode.OK if record.ok else ExitCode.SMOKE_FAILED


def run_smoke(ctx: Context, api: ApiClient, record: SmokeRecord) -> None:
    args = ctx.args
    steps = SmokeSteps(
        api,
        record,
        min_interval_seconds=ctx.settings.min_poll_interval_seconds,
        # Bounded: a pipeline's smoke must end, whatever became of the prompt.
        wait_timeout_seconds=min(
            ctx.settings.wait_timeout_seconds,
            max(REPLY_WAIT_FLOOR_SECONDS, 3 * args.first_token_limit),
        ),
    )
    if not step(ctx, record, "ping and queue-health", lambda: probe(ctx, record)):
        return
    if args.stop_first and not step(ctx, record, "stop-first", steps.stop_first):
        return
    step(ctx, record, "prompt", lambda: steps.prompt(args.prompt, args.max_tokens))
    if record.reply.status not in (None, "done"):
        record.failures.append(f"prompt: the reply's status is {record.reply.status}")
    if not args.no_stop:
        step(ctx, record, "stop", lambda: steps.stop(args.stop_limit))


def probe(ctx: Context, record: SmokeRecord) -> None:
    with ctx.health() as health:
        started = time.monotonic()
        health.ping()
        record.ping_ms = round((time.monotonic() - started) * 1000, 1)
        started = time.monotonic()
        queue = health.queue_health()
    record.queue_health.ms = round((time.monotonic() - started) * 1000, 1)
    record.queue_health.ok = queue.ok
    if not queue.ok:
        raise QueueNotHealthy(f"queue-health says redis {queue.redis}")


def step(ctx: Context, record: SmokeRecord, name: str, run: Callable[[], object]) -> bool:
    """Run one step; a failure goes into the record as one line naming the step."""
    try:
        run()
    except TlfifError as exc:
        record.failures.append(f"{name}: {describe(exc, ctx.where()).line}")
        return False
    return True


class QueueNotHealthy(TlfifError):
    code = "queue_not_healthy"


def print_record(ctx: Context, record: SmokeRecord) -> None:
    def shown(value: float | None, unit: str = "s") -> str:
        return "-" if value is None else f"{value:g} {unit}"

    table = Table(title=f"tlfif smoke: profile {record.profile}, {record.started_at}")
    table.add_column("step")
    table.add_column("took", justify="right")
    table.add_column("limit", justify="right")
    limits = record.limits
    first_limit = f"{limits.first_token:g} s" + (
        " (on the reply)" if limits.first_token_measured_on == "reply" else ""
    )
    phases = record.phases
    rows = [
        ("ping", shown(record.ping_ms, "ms"), ""),
        ("queue-health", shown(record.queue_health.ms, "ms"), ""),
        ("prompt accepted", shown(phases.accepted), ""),
        ("node running", shown(phases.node_running), ""),
        ("engine ready", shown(phases.engine_ready), ""),
        ("first token", shown(phases.first_token), first_limit),
        ("whole reply", shown(phases.reply), ""),
        ("stop accepted", shown(record.stop.accepted), f"{limits.stop:g} s"),
        ("EC2 stopping", shown(record.stop.stopping), f"{limits.stop:g} s"),
    ]
    for row in rows:
        table.add_row(*row)
    ctx.out.print(table)
    cold = {True: "cold start", False: "warm node", None: "start unknown"}[record.cold]
    tokens = record.reply.completion_tokens
    ctx.out.print(f"{cold}; reply {record.reply.status or '-'}, {tokens or 0} tokens")
    for failure in record.failures:
        ctx.out.print(f"FAILED {failure}")
    ctx.out.print("ok" if record.ok else "not ok")
