"""The one failure table both clients read covers the whole tree; each client words its
remedies its own way."""

from __future__ import annotations

import pytest

from gui.aws_backend import WINDOW_REMEDIES
from tlfif import errors
from tlfif.client import errors as client_errors
from tlfif.client.failures import Where, describe
from tlfif.errors import TlfifError
from tlfif_cli.errors import ExitCode, exit_code


def every_error() -> list[TlfifError]:
    """One of each class in the tree's two modules (others may take other arguments)."""
    modules = {errors.__name__, client_errors.__name__}
    made: list[TlfifError] = []
    pending: list[type[TlfifError]] = [TlfifError]
    while pending:
        error_class = pending.pop()
        pending.extend(error_class.__subclasses__())
        if error_class.__module__ not in modules:
            continue
        if error_class is errors.Throttled:
            made.append(errors.Throttled("slow down", retry_after=3))
        elif error_class is client_errors.ServiceUnreachable:
            made.append(error_class("down", service="the TL-FIF API", url="http://x"))
        elif error_class is client_errors.WaitTimedOut:
            made.append(error_class("no reply", job_id="job-1"))
        else:
            made.append(error_class("something"))
    return made


@pytest.mark.parametrize("error", every_error(), ids=lambda e: type(e).__name__)
def test_every_error_is_one_line_with_a_non_zero_code(error: TlfifError) -> None:
    failure = describe(error, Where(local=True, job_id="job-1"))
    assert exit_code(failure) != ExitCode.OK
    assert failure.line
    assert "\n" not in failure.line


def test_unreachable_names_make_up_only_for_the_local_stack() -> None:
    error = client_errors.ServiceUnreachable("down", service="the TL-FIF API", url="https://api")
    assert "make up" in describe(error, Where(local=True)).line
    assert "make up" not in describe(error, Where(local=False)).line


def test_a_timed_out_wait_says_how_to_fetch_the_reply_later() -> None:
    failure = describe(client_errors.WaitTimedOut("no reply", job_id="job-1"), Where())
    assert exit_code(failure) == ExitCode.TIMED_OUT
    assert "`tlfif result job-1 --wait`" in failure.line


@pytest.mark.parametrize("error", every_error(), ids=lambda e: type(e).__name__)
def test_the_window_gets_the_same_line_without_the_clis_commands_to_type(
    error: TlfifError,
) -> None:
    in_window = describe(error, Where(local=False, remedies=WINDOW_REMEDIES))
    assert in_window.outcome == describe(error, Where(local=False)).outcome
    assert "tlfif login" not in in_window.line and "tlfif status" not in in_window.line
