"""`tlfif`: log in, send a prompt and watch it through a cold start, fetch, stop, status.

Parses, calls the API client, formats; every failure is one line from the table in
tlfif/client/failures.py and a non-zero exit code (cli/errors.py), never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from tlfif.client.failures import Where, describe
from tlfif.errors import TlfifError
from tlfif_cli.commands import COMMANDS
from tlfif_cli.context import Context
from tlfif_cli.errors import ExitCode, exit_code
from tlfif_cli.output import consoles
from tlfif_cli.parser import UsageError, build_parser
from tlfif_cli.settings import CliSettings


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
        return exit_code(failure)
    except KeyboardInterrupt:
        job = ctx.job_id if ctx else None
        goes_on = f"; job {job} goes on: `tlfif result {job} --wait`" if job else ""
        err.print(f"tlfif: interrupted{goes_on}")
        return ExitCode.INTERRUPTED
    except Exception as exc:
        # The promise is one line, never a traceback; this line says it is our bug.
        err.print(f"tlfif: internal error ({type(exc).__name__}: {exc}); please report it")
        return ExitCode.JOB_FAILED
