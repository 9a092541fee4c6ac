"""The one table from a TlfifError to what `tlfif` prints: one line naming what to do.

Each error class maps to an exit code and a line; a subclass without its own row takes its
parent's (looked up along the MRO), so a new error in tlfif/errors.py is never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from tlfif import client_errors as client
from tlfif import errors


class ExitCode(IntEnum):
    OK = 0
    JOB_FAILED = 1  # the reply says error/expired/cancelled, or something unforeseen
    USAGE = 2  # argparse's own code, kept for every bad input
    AUTH = 3
    UNREACHABLE = 4  # no stack, no profile, a bad setting
    REFUSED = 5  # throttled, budget hold, node refused to start: try again later
    NOT_FOUND = 6
    TIMED_OUT = 7  # the job goes on; only the waiting stopped
    INTERRUPTED = 130  # the shell's code for Ctrl-C


@dataclass(frozen=True)
class Where:
    """What a line may name: whether the stack is the local one, which job was asked for."""

    local: bool = True
    job_id: str | None = None


@dataclass(frozen=True)
class Failure:
    line: str
    exit_code: ExitCode


Describe = Callable[[errors.TlfifError, Where], str]


def _unreachable(exc: errors.TlfifError, where: Where) -> str:
    assert isinstance(exc, client.ServiceUnreachable)
    hint = "is `make up` running?" if where.local else "check your network and the profile"
    return f"cannot reach {exc.service} at {exc.url}: {hint}"


def _not_found(exc: errors.TlfifError, where: Where) -> str:
    job = f"job {where.job_id}" if where.job_id else "job"
    return f"unknown {job}: {exc.message} (`tlfif status` lists your pending jobs)"


def _timed_out(exc: errors.TlfifError, where: Where) -> str:
    assert isinstance(exc, client.WaitTimedOut)
    return f"{exc.message}; the job goes on: `tlfif result {exc.job_id} --wait` fetches it later"


def _retry(prefix: str) -> Describe:
    def line(exc: errors.TlfifError, where: Where) -> str:
        after = f"; retry after {exc.retry_after} s" if exc.retry_after else ""
        return f"{prefix}: {exc.message}{after}"

    return line


def _plain(template: str) -> Describe:
    return lambda exc, where: template.format(message=exc.message)


TABLE: dict[type[errors.TlfifError], tuple[ExitCode, Describe]] = {
    client.ServiceUnreachable: (ExitCode.UNREACHABLE, _unreachable),
    errors.ConfigError: (ExitCode.UNREACHABLE, _plain("{message}")),
    client.NotLoggedIn: (ExitCode.AUTH, _plain("{message}: run `tlfif login`")),
    client.LoginFailed: (ExitCode.AUTH, _plain("login failed: {message}; try `tlfif login` again")),
    client.SessionExpired: (
        ExitCode.AUTH,
        _plain("your session expired ({message}): run `tlfif login` again"),
    ),
    errors.TokenInvalid: (
        ExitCode.AUTH,
        _plain("the API refused your session ({message}): run `tlfif login`"),
    ),
    errors.Forbidden: (ExitCode.AUTH, _plain("not allowed: {message}")),
    errors.InvalidInput: (ExitCode.USAGE, _plain("invalid input: {message}")),
    errors.JobNotFound: (ExitCode.NOT_FOUND, _not_found),
    errors.Throttled: (ExitCode.REFUSED, _retry("throttled")),
    errors.BudgetHold: (
        ExitCode.REFUSED,
        _plain(
            "budget hold: {message}; it lifts when the month turns, or run "
            "`tlfif budget resume` (nothing was queued)"
        ),
    ),
    errors.NodeStartRefused: (
        ExitCode.REFUSED,
        _retry("the node refused to start (your prompt stays queued; see `tlfif status`)"),
    ),
    errors.QueueUnavailable: (
        ExitCode.REFUSED,
        _retry("the queue is unavailable, nothing was queued"),
    ),
    client.ServiceUnavailable: (ExitCode.REFUSED, _retry("the TL-FIF API is unavailable")),
    client.UnexpectedResponse: (
        ExitCode.UNREACHABLE,
        _plain("{message} (is the profile's api_url right?)"),
    ),
    client.WaitTimedOut: (ExitCode.TIMED_OUT, _timed_out),
    errors.TlfifError: (ExitCode.JOB_FAILED, _retry("failed")),
}


def describe(exc: errors.TlfifError, where: Where) -> Failure:
    for error_class in type(exc).__mro__:
        if error_class in TABLE:
            exit_code, line = TABLE[error_class]
            return Failure(line(exc, where), exit_code)
    raise AssertionError("TlfifError is in TABLE")  # pragma: no cover
