"""`tlfif`: log in, send a prompt and watch it through a cold start, fetch, stop, status.

Parses, calls the API client, formats; every failure is one line from the table in
tlfif/cli_errors.py and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import httpx
from pydantic import ValidationError
from rich.console import Console

from tlfif.api_client import ApiClient, client_version
from tlfif.aws.cognito import CognitoIdentityProvider
from tlfif.cli_errors import ExitCode, Where, describe
from tlfif.cli_output import (
    consoles,
    print_budget_resumed,
    print_pending,
    print_reply,
    print_status,
    print_stopping,
)
from tlfif.cli_progress import PhaseDisplay
from tlfif.cli_settings import CliSettings
from tlfif.client_config import StackConfig, load_profile
from tlfif.contracts import MAX_CONTENT_BYTES, InferRequest, Reply
from tlfif.cost_model import Usage
from tlfif.cost_report import build_report, print_report, report_json
from tlfif.errors import InvalidInput, TlfifError
from tlfif.job_phase import JobPhase, phase_of_accepted, phase_of_pending
from tlfif.session import Session
from tlfif.tokens import TokenFile


class UsageError(Exception):
    """A command line argparse refused; shown as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the whole usage block and exit; one line is the rule here.
        raise UsageError(message)


def bounded(kind: Callable[[str], float], low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value

    return parse


def build_parser() -> Parser:
    parser = Parser(prog="tlfif", description="Your own LLM that costs nothing while idle.")
    parser.add_argument("--profile", help="stack profile in the config file (default: local)")
    parser.add_argument("--version", action="version", version=f"tlfif {client_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="log in to the stack's Cognito user pool")
    login.add_argument("--username", help="default: the local stack's demo user, else asked")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("logout", help="forget this profile's tokens")

    infer = commands.add_parser("infer", help="send a prompt and wait for the reply")
    infer.add_argument("prompt", nargs="?", help='the prompt; "-" or none reads stdin')
    infer.add_argument(
        "--idle", type=bounded(int, 1, 30), help="idle minutes before the node stops"
    )
    infer.add_argument("--max-tokens", type=bounded(int, 1, 4096), help="longest reply in tokens")
    infer.add_argument("--temperature", type=bounded(float, 0, 2), help="sampling temperature")
    infer.add_argument("--no-wait", action="store_true", help="print the job id and return")
    infer.add_argument("--json", action="store_true", help="print the reply as JSON only")

    result = commands.add_parser("result", help="fetch a reply by job id")
    result.add_argument("id", help="the job id `tlfif infer --no-wait` printed")
    result.add_argument("--wait", action="store_true", help="wait until the reply exists")
    result.add_argument("--json", action="store_true", help="print JSON only")

    for name, text in (("stop", "stop the node now"), ("status", "node, queue and your jobs")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--json", action="store_true", help="print JSON only")

    budget = commands.add_parser("budget", help="the monthly budget's hold on the node")
    budget_commands = budget.add_subparsers(dest="budget_command", required=True, metavar="ACTION")
    resume = budget_commands.add_parser(
        "resume", help="lift the budget hold before the month turns"
    )
    resume.add_argument("--json", action="store_true", help="print JSON only")

    cost = commands.add_parser("cost", help="monthly cost: idle floor and N sessions, vs the seed")
    cost.add_argument("--env", default="prod", help="infra/envs/<env>.tfvars (default: prod)")
    cost.add_argument("--tfvars", type=Path, help="another tfvars file instead of --env")
    cost.add_argument("--sessions", type=bounded(int, 0, 10000), default=30, help="default 30")
    cost.add_argument("--minutes", type=bounded(float, 0, 1440), default=5, help="default 5")
    cost.add_argument("--no-free-tier", action="store_true", help="list prices, no allowances")
    cost.add_argument("--json", action="store_true", help="print JSON only")

    gui = commands.add_parser("gui", help="the desktop window (AWS TinyLlama or OpenAI)")
    gui.add_argument("--ini", type=Path, help="settings file (default: ~/.tl-fif.ini)")
    return parser


@dataclass
class Context:
    """What a command needs: its arguments, settings, consoles, and the stack they name."""

    args: argparse.Namespace
    settings: CliSettings
    out: Console
    err: Console
    transport: httpx.BaseTransport | None = None
    job_id: str | None = None
    _config: StackConfig | None = field(default=None, repr=False)

    @property
    def profile(self) -> str:
        return str(self.args.profile or self.settings.profile)

    def config(self) -> StackConfig:
        if self._config is None:
            self._config = load_profile(self.profile)
        return self._config

    def session(self) -> Session:
        config = self.config()
        identity = CognitoIdentityProvider(
            config.region, config.client_id, config.cognito_endpoint_url
        )
        return Session(self.profile, config, TokenFile(), identity)

    def client(self) -> ApiClient:
        return ApiClient(self.config().api_url, self.session(), transport=self.transport)

    def where(self) -> Where:
        local = self._config is None or self._config.cognito_endpoint_url is not None
        return Where(local=local, job_id=self.job_id)

    def wait(self, api: ApiClient, job_id: str, first: JobPhase | None, started: float) -> Reply:
        """Long-poll with the live phase display on stderr."""
        with PhaseDisplay(self.err, started) as display:
            if first is not None:
                display.show(first)
            return api.wait_for_reply(
                job_id,
                on_pending=lambda pending: display.show(phase_of_pending(pending)),
                on_retry=lambda exc, pause: display.note(
                    f"{describe(exc, self.where()).line}; trying again in {pause:.0f} s"
                ),
                poll_seconds=self.settings.poll_seconds,
                timeout_seconds=self.settings.wait_timeout_seconds,
                min_interval_seconds=self.settings.min_poll_interval_seconds,
            )


def cmd_login(ctx: Context) -> ExitCode:
    session = ctx.session()
    username, password = credentials(ctx.args, session.config, ctx.err)
    tokens = session.login(username, password)
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
    ctx.session().logout()
    ctx.err.print(f"logged out of profile {ctx.profile}")
    return ExitCode.OK


def cmd_infer(ctx: Context) -> ExitCode:
    request = build_request(read_prompt(ctx.args.prompt, ctx.err), ctx.args)
    started = time.monotonic()
    with ctx.client() as api:
        # One key per invocation: the client's own retry of a lost 202 reuses it, so the
        # router queues (and the GPU answers) the prompt once.
        accepted = api.submit(request, idempotency_key=str(uuid.uuid4()))
        ctx.job_id = accepted.id
        if ctx.args.no_wait:
            ctx.out.print(accepted.id)
            return ExitCode.OK
        if accepted.node_error:
            ctx.err.print(
                f"the node did not start yet ({accepted.node_error}); the job stays queued"
            )
        reply = ctx.wait(api, accepted.id, phase_of_accepted(accepted), started)
    elapsed = time.monotonic() - started
    return print_reply(reply, as_json=ctx.args.json, err=ctx.err, elapsed=elapsed)


def read_prompt(given: str | None, err: Console) -> str:
    if given is not None and given != "-":
        return given
    if sys.stdin.isatty():
        err.print("reading the prompt from stdin; end it with Ctrl-D")
    return sys.stdin.read().rstrip("\r\n")


def build_request(prompt: str, args: argparse.Namespace) -> InferRequest:
    """Checked here first, so a bad prompt costs no request and the message is exact."""
    if not prompt.strip():
        raise InvalidInput('the prompt is empty: give it as an argument, or on stdin with "-"')
    try:
        size = len(prompt.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput("the prompt is not valid UTF-8 text") from None
    if size > MAX_CONTENT_BYTES:
        raise InvalidInput(
            f"the prompt is {size} UTF-8 bytes; at most {MAX_CONTENT_BYTES} are accepted"
        )
    given = {"idle": args.idle, "max_tokens": args.max_tokens, "temperature": args.temperature}
    try:
        return InferRequest(prompt=prompt, **{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise InvalidInput(str(exc.errors(include_url=False)[0]["msg"])) from None


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


def cmd_stop(ctx: Context) -> ExitCode:
    with ctx.client() as api:
        return print_stopping(api.stop(), as_json=ctx.args.json, out=ctx.out)


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
    "infer": cmd_infer,
    "result": cmd_result,
    "stop": cmd_stop,
    "status": cmd_status,
    "budget": cmd_budget,
    "cost": cmd_cost,
    "gui": cmd_gui,
}


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """The console script. `transport` lets tests put an API double behind the client."""
    out, err = consoles()
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        err.print(f"tlfif: {exc} (see `tlfif --help`)")
        return ExitCode.USAGE
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    ctx: Context | None = None
    try:
        ctx = Context(args, CliSettings.load(), out, err, transport)
        return COMMANDS[args.command](ctx)
    except TlfifError as exc:
        failure = describe(exc, ctx.where() if ctx else Where())
        err.print(f"tlfif: {failure.line}")
        return failure.exit_code
    except KeyboardInterrupt:
        job = ctx.job_id if ctx else None
        goes_on = f"; job {job} goes on: `tlfif result {job} --wait`" if job else ""
        err.print(f"tlfif: interrupted{goes_on}")
        return ExitCode.INTERRUPTED
    except Exception as exc:
        # The promise is one line, never a traceback; this line says it is our bug.
        err.print(f"tlfif: internal error ({type(exc).__name__}: {exc}); please report it")
        return ExitCode.JOB_FAILED
