"""The `tlfif` command line: its words, flags and their bounds (argparse)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from tlfif.client.api import client_version

# `tlfif smoke`'s prompt: short, with one obvious answer, so a few tokens suffice.
SMOKE_PROMPT = "What is the capital of France? Answer in one word."


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
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (and, a line each, any new password or MFA code)",
    )
    commands.add_parser("logout", help="forget this profile's tokens")
    commands.add_parser(
        "token", help="print a fresh access token (an OpenAI client's API key for /v1)"
    )

    infer = commands.add_parser(
        "infer", help="send a prompt; its text prints as it comes on a terminal"
    )
    infer.add_argument("prompt", nargs="?", help='the prompt; "-" or none reads stdin')
    infer.add_argument(
        "--idle", type=bounded(int, 1, 30), help="idle minutes before the node stops"
    )
    infer.add_argument("--max-tokens", type=bounded(int, 1, 4096), help="longest reply in tokens")
    infer.add_argument("--temperature", type=bounded(float, 0, 2), help="sampling temperature")
    infer.add_argument("--no-wait", action="store_true", help="print the job id and return")
    infer.add_argument(
        "--whole", action="store_true", help="wait for the whole reply, print nothing live"
    )
    infer.add_argument("--json", action="store_true", help="print the reply as JSON only")
    infer.add_argument(
        "--webhook",
        metavar="URL",
        help="an https URL the signed reply facts are POSTed to (`tlfif webhook-secret show`)",
    )

    result = commands.add_parser("result", help="fetch a reply by job id")
    result.add_argument("id", help="the job id `tlfif infer --no-wait` printed")
    result.add_argument("--wait", action="store_true", help="wait until the reply exists")
    result.add_argument("--json", action="store_true", help="print JSON only")

    cancel = commands.add_parser("cancel", help="stop a job: its reply says cancelled")
    cancel.add_argument("id", help="the job id (`tlfif status` lists your pending jobs)")
    cancel.add_argument("--json", action="store_true", help="print JSON only")

    wake = commands.add_parser("wake", help="start the node ahead of a prompt (queues nothing)")
    wake.add_argument(
        "--idle", type=bounded(int, 1, 30), help="idle minutes if no prompt comes (default 5)"
    )
    wake.add_argument("--json", action="store_true", help="print JSON only")

    for name, text in (("stop", "stop the node now"), ("status", "node, queue and your jobs")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--json", action="store_true", help="print JSON only")

    budget = commands.add_parser("budget", help="the monthly budget's hold on the node")
    budget_commands = budget.add_subparsers(dest="budget_command", required=True, metavar="ACTION")
    resume = budget_commands.add_parser(
        "resume", help="lift the budget hold before the month turns"
    )
    resume.add_argument("--json", action="store_true", help="print JSON only")

    keys = commands.add_parser("keys", help="API keys for SDKs and tools (the owner only)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="make a key; its secret is shown once")
    create.add_argument("name", help="1-64 letters, digits, '.', '_' or '-'")
    listing = key_commands.add_parser("list", help="the keys, when each was made and last used")
    revoke = key_commands.add_parser("revoke", help="stop a key at once")
    revoke.add_argument("key", metavar="NAME-or-ID", help="the key's name or id")
    for command in (create, listing, revoke):
        command.add_argument("--json", action="store_true", help="print JSON only")

    secret = commands.add_parser(
        "webhook-secret", help="the secret your webhook deliveries are signed with"
    )
    secret_commands = secret.add_subparsers(
        dest="webhook_secret_command", required=True, metavar="ACTION"
    )
    show = secret_commands.add_parser("show", help="print it (made on first use)")
    rotate = secret_commands.add_parser("rotate", help="a new one; the old one stops at once")
    webhook_text = commands.add_parser(
        "webhook-text", help="whether deliveries carry the reply's text"
    )
    webhook_text.add_argument(
        "setting", choices=("on", "off"), help="off (the default): facts only"
    )
    for command in (show, rotate, webhook_text):
        command.add_argument("--json", action="store_true", help="print JSON only")

    usage = commands.add_parser(
        "usage", help="this month's prompts, tokens and estimated cost (the owner: everyone's)"
    )
    usage.add_argument("--month", help="YYYY-MM (default: this UTC month)")
    usage.add_argument("--json", action="store_true", help="print JSON only")

    cost = commands.add_parser("cost", help="monthly cost: idle floor and N sessions, vs the seed")
    cost.add_argument("--env", default="prod", help="infra/envs/<env>.tfvars (default: prod)")
    cost.add_argument("--tfvars", type=Path, help="another tfvars file instead of --env")
    cost.add_argument("--sessions", type=bounded(int, 0, 10000), default=30, help="default 30")
    cost.add_argument("--minutes", type=bounded(float, 0, 1440), default=5, help="default 5")
    cost.add_argument(
        "--nodes", type=bounded(int, 1, 8), help="GPU nodes (default: node_count_max of the tfvars)"
    )
    cost.add_argument("--no-free-tier", action="store_true", help="list prices, no allowances")
    cost.add_argument("--json", action="store_true", help="print JSON only")

    smoke = commands.add_parser(
        "smoke", help="probe the stack end to end: ping, a prompt's phases, a stop; one record"
    )
    smoke.add_argument(
        "--stop-first", action="store_true", help="stop the node first: a cold start (owner)"
    )
    smoke.add_argument("--prompt", default=SMOKE_PROMPT, help="default: a short fixed prompt")
    smoke.add_argument("--max-tokens", type=bounded(int, 1, 4096), default=16, help="default 16")
    smoke.add_argument(
        "--first-token-limit",
        type=bounded(float, 0, 3600),
        default=90.0,
        metavar="SECONDS",
        help="most seconds from the prompt to its first token (default 90, the seed's KPI)",
    )
    smoke.add_argument(
        "--stop-limit",
        type=bounded(float, 0, 3600),
        default=10.0,
        metavar="SECONDS",
        help="most seconds for the stop to be accepted and EC2 to say stopping (default 10)",
    )
    smoke.add_argument("--no-stop", action="store_true", help="leave the node running")
    smoke.add_argument("--json", action="store_true", help="print the record as JSON only")

    gui = commands.add_parser("gui", help="the desktop window (AWS TinyLlama or OpenAI)")
    gui.add_argument("--ini", type=Path, help="settings file (default: ~/.tl-fif.ini)")
    return parser
