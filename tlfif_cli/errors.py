"""The `tlfif` command's exit codes, from the failure table both clients share
(tlfif/client/failures.py)."""

from __future__ import annotations

from enum import IntEnum

from tlfif.client.failures import Failure, Outcome


class ExitCode(IntEnum):
    OK = 0
    JOB_FAILED = 1  # the reply says error/expired/cancelled, or something unforeseen
    USAGE = 2  # argparse's own code, kept for every bad input
    AUTH = 3
    UNREACHABLE = 4  # no stack, no profile, a bad setting
    REFUSED = 5  # throttled, budget hold, node refused to start: try again later
    NOT_FOUND = 6
    TIMED_OUT = 7  # the job goes on; only the waiting stopped
    SMOKE_FAILED = 8  # `tlfif smoke`: a check failed or a limit was passed
    INTERRUPTED = 130  # the shell's code for Ctrl-C


EXIT_CODES: dict[Outcome, ExitCode] = {
    Outcome.FAILED: ExitCode.JOB_FAILED,
    Outcome.USAGE: ExitCode.USAGE,
    Outcome.AUTH: ExitCode.AUTH,
    Outcome.UNREACHABLE: ExitCode.UNREACHABLE,
    Outcome.REFUSED: ExitCode.REFUSED,
    Outcome.NOT_FOUND: ExitCode.NOT_FOUND,
    Outcome.TIMED_OUT: ExitCode.TIMED_OUT,
}


def exit_code(failure: Failure) -> ExitCode:
    return EXIT_CODES[failure.outcome]
