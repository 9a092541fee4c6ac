"""The `tlfif` commands: each parses what it needs, calls the API client, formats."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable

from pydantic import ValidationError
from rich.console import Console

from tlfif.client.api import ApiClient
from tlfif.client.config import StackConfig
from tlfif.client.failures import describe
from tlfif.client.phase import accepted_note, phase_of_accepted
from tlfif.contracts import InferRequest, Reply, invalid_input
from tlfif.errors import AlreadyAnswered, ConfigError, InvalidInput, TlfifError
from tlfif_cli.bill_model import Usage
from tlfif_cli.bill_report import build_report, print_report, report_json
from tlfif_cli.challenges import TerminalAnswers
from tlfif_cli.context import Context
from tlfif_cli.errors import ExitCode
from tlfif_cli.keys import cmd_keys
from tlfif_cli.live import follow_on_terminal
from tlfif_cli.output import (
    print_budget_resumed,
    print_cancelled,
    print_pending,
    print_reply,
    print_status,
    print_stopping,
    print_woken,
)
from tlfif_cli.smoke import cmd_smoke
from tlfif_cli.usage import cmd_usage
from tlfif_cli.webhooks import cmd_webhook_secret, cmd_webhook_text


def no_login_with_a_key(ctx: Context, what: str) -> None:
    """login, logout and token act on a login's tokens, which a run with a key never uses."""
    if ctx.uses_api_key:
        raise ConfigError(
            f"TLFIF_CLI_API_KEY is set, so every command sends that key and no login's token; "
            f"unset it to {what}"
        )


def cmd_login(ctx: Context) -> ExitCode:
    no_login_with_a_key(ctx, "log in")
    session = ctx.session()
    username, password = credentials(ctx.args, session.config, ctx.err)
    answers = TerminalAnswers(ctx.err, from_stdin=ctx.args.password_stdin)
    tokens = session.login(username, password, answers)
    until = time.strftime("%H:%M", time.localtime(tokens.expires_at))
    ctx.err.print(
        f"logged in as {username} (profile {ctx.profile}); access token valid until {until}, "
        f"kept owner-only in {session.store.path}"
    )
    return ExitCode.OK


def credentials(args: argparse.Namespace, config: StackConfig, err: Console) -> tuple[str, str]:
    demo = config.demo_username if config.demo_password else None
    username: str | None = args.username or demo
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif username is not None and username == demo:
        password = config.demo_password or ""
    elif not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password: pipe it in with --password-stdin")
    else:
        username, password = ask_credentials(username, err)
    if not username or not password:
        raise InvalidInput("a username and a password are needed")
    return username, password


def ask_credentials(username: str | None, err: Console) -> tuple[str, str]:
    # Prompts go to stderr with the rest of the talk; stdout stays for results.
    try:
        username = username or err.input("username: ").strip()
        return username, err.input("password: ", password=True)
    except EOFError:
        raise InvalidInput("no username or password given") from None


def cmd_logout(ctx: Context) -> ExitCode:
    no_login_with_a_key(ctx, "log out")
    ctx.session().logout()
    ctx.err.print(f"logged out of profile {ctx.profile}")
    return ExitCode.OK


def cmd_token(ctx: Context) -> ExitCode:
    """The profile's access token on stdout, refreshed if near expiry: what an OpenAI client
    sends as its API key to the router's /v1 routes (valid for about an hour)."""
    no_login_with_a_key(ctx, "print a login's token (an OpenAI client takes the key itself)")
    ctx.out.print(ctx.session().access_token())
    return ExitCode.OK


def cmd_infer(ctx: Context) -> ExitCode:
    args = ctx.args
    # Live text only where a person reads it: a file or a pipe gets the stored reply alone,
    # never the void text of a generation that started over (tlfif_cli/live.py).
    live = ctx.out.is_terminal and not (args.whole or args.json or args.no_wait)
    request = build_request(read_prompt(args.prompt, ctx.err), args, stream=live)
    started = time.monotonic()
    with ctx.client() as api:
        # One key per invocation: the client's own retry of a lost 202 reuses it, so the
        # router queues (and the GPU answers) the prompt once.
        accepted = api.submit(request, idempotency_key=str(uuid.uuid4()))
        ctx.job_id = accepted.id
        if ctx.args.no_wait:
            ctx.out.print(accepted.id)
            return ExitCode.OK
        note = accepted_note(accepted)
        if note:
            ctx.err.print(note)
        first = phase_of_accepted(accepted)
        try:
            if live:
                reply, shown = follow_on_terminal(ctx, api, accepted.id, first, started)
            else:
                reply, shown = ctx.wait(api, accepted.id, first, started), ""
        except KeyboardInterrupt:
            return cancel_interrupted(ctx, api, accepted.id)
    elapsed = time.monotonic() - started
    return print_reply(reply, as_json=args.json, err=ctx.err, elapsed=elapsed, shown=shown)


def cancel_interrupted(ctx: Context, api: ApiClient, job_id: str) -> ExitCode:
    """Ctrl-C while waiting: the job is cancelled, and stderr says how that went (a second
    Ctrl-C leaves it to go on, as main() says)."""
    try:
        answer = api.cancel(job_id)
    except AlreadyAnswered:
        said = f"job {job_id} was answered already: `tlfif result {job_id}` prints it"
    except TlfifError as exc:
        line = describe(exc, ctx.where()).line
        said = f"job {job_id} goes on, the cancel failed ({line})"
    else:
        said = (
            f"job {job_id} cancelled"
            if isinstance(answer, Reply)
            else f"job {job_id} is being cancelled"
        )
    ctx.err.print(f"tlfif: interrupted; {said}")
    return ExitCode.INTERRUPTED


def read_prompt(given: str | None, err: Console) -> str:
    if given is not None and given != "-":
        return given
    if sys.stdin.isatty():
        err.print("reading the prompt from stdin; end it with Ctrl-D")
    return sys.stdin.read().rstrip("\r\n")


def build_request(prompt: str, args: argparse.Namespace, *, stream: bool) -> InferRequest:
    """InferRequest's own rules (empty prompt, the 6144-byte cap, ranges), checked here so a
    bad prompt costs no request, in the router's words."""
    given = {
        "idle": args.idle,
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "stream": stream or None,
        "webhook": args.webhook,
    }
    body = {"prompt": prompt, **{k: v for k, v in given.items() if v is not None}}
    try:
        return InferRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_input(exc, body) from None


def cmd_result(ctx: Context) -> ExitCode:
    ctx.job_id = ctx.args.id
    started = time.monotonic()
    with ctx.client() as api:
        if ctx.args.wait:
            reply = ctx.wait(api, ctx.args.id, None, started)
            return print_reply(reply, as_json=ctx.args.json, err=ctx.err, elapsed=None)
        answer = api.result(ctx.args.id)
    if isinstance(answer, Reply):
        return print_reply(answer, as_json=ctx.args.json, err=ctx.err, elapsed=None)
    return print_pending(answer, as_json=ctx.args.json, out=ctx.out)


def cmd_cancel(ctx: Context) -> ExitCode:
    ctx.job_id = ctx.args.id
    with ctx.client() as api:
        return print_cancelled(api.cancel(ctx.args.id), as_json=ctx.args.json, out=ctx.out)


def cmd_stop(ctx: Context) -> ExitCode:
    with ctx.client() as api:
        return print_stopping(api.stop(), as_json=ctx.args.json, out=ctx.out)


def cmd_wake(ctx: Context) -> ExitCode:
    with ctx.client() as api:
        return print_woken(api.wake(ctx.args.idle), as_json=ctx.args.json, out=ctx.out)


def cmd_status(ctx: Context) -> ExitCode:
    with ctx.client() as api:
        return print_status(api.status(), as_json=ctx.args.json, out=ctx.out)


def cmd_budget(ctx: Context) -> ExitCode:
    # "resume" is the one action argparse admits.
    with ctx.client() as api:
        return print_budget_resumed(api.resume_budget(), as_json=ctx.args.json, out=ctx.out)


def cmd_cost(ctx: Context) -> ExitCode:
    args = ctx.args
    report = build_report(
        env=args.env,
        tfvars=args.tfvars,
        usage=Usage(sessions=int(args.sessions), minutes=float(args.minutes)),
        free_tier=not args.no_free_tier,
        nodes=None if args.nodes is None else int(args.nodes),
    )
    if args.json:
        ctx.out.file.write(report_json(report) + "\n")
    else:
        print_report(report, ctx.out)
    return ExitCode.OK


def cmd_gui(ctx: Context) -> ExitCode:
    # Imported here: the CLI's other commands need neither Tk nor the GUI's backends.
    from gui.app import run

    return ExitCode(run(profile=ctx.args.profile, ini=ctx.args.ini))


COMMANDS: dict[str, Callable[[Context], ExitCode]] = {
    "login": cmd_login,
    "logout": cmd_logout,
    "token": cmd_token,
    "infer": cmd_infer,
    "result": cmd_result,
    "cancel": cmd_cancel,
    "stop": cmd_stop,
    "wake": cmd_wake,
    "status": cmd_status,
    "budget": cmd_budget,
    "keys": cmd_keys,
    "webhook-secret": cmd_webhook_secret,
    "webhook-text": cmd_webhook_text,
    "cost": cmd_cost,
    "usage": cmd_usage,
    "smoke": cmd_smoke,
    "gui": cmd_gui,
}
