"""The one table from a TlfifError to what a client tells its user: one line naming what to do.

Both clients read it: the `tlfif` command (which turns the outcome into its exit code) and
the desktop window (which turns it into its BackendError kinds). Each error class maps to an
outcome and a line; a subclass without its own row takes its parent's (looked up along the
MRO), so a new error in tlfif/errors.py is never a traceback. Where the two clients differ
is only how they say the remedy ("run `tlfif login`" against "send again to log in"), which
each passes in as its Remedies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from tlfif import errors
from tlfif.client import errors as client
from tlfif.client.api_key import ApiKeyRefused


class Outcome(Enum):
    """What kind of failure it is, for a client to act on (the CLI's exit codes)."""

    FAILED = "failed"  # the reply says error/expired/cancelled, or something unforeseen
    USAGE = "usage"  # bad input
    AUTH = "auth"
    UNREACHABLE = "unreachable"  # no stack, no profile, a bad setting
    REFUSED = "refused"  # throttled, budget hold, node refused to start: try again later
    NOT_FOUND = "not_found"
    TIMED_OUT = "timed_out"  # the job goes on; only the waiting stopped


@dataclass(frozen=True)
class Remedies:
    """How a client words what to do; the CLI's by default."""

    login: str = "run `tlfif login`"
    login_again: str = "run `tlfif login` again"
    retry_login: str = "try `tlfif login` again"
    list_jobs: str = "`tlfif status` lists your pending jobs"
    lift_budget: str = "run `tlfif budget resume`"
    status: str = "see `tlfif status`"
    fetch_later: Callable[[str], str] = field(
        default=lambda job_id: f"`tlfif result {job_id} --wait` fetches it later"
    )
    read_reply: Callable[[str], str] = field(
        default=lambda job_id: f"`tlfif result {job_id}` prints it"
    )


@dataclass(frozen=True)
class Where:
    """What a line may name: whether the stack is the local one, which job was asked for,
    and how this client words its remedies."""

    local: bool = True
    job_id: str | None = None
    remedies: Remedies = field(default_factory=Remedies)


@dataclass(frozen=True)
class Failure:
    line: str
    outcome: Outcome


Describe = Callable[[errors.TlfifError, Where], str]


def _unreachable(exc: errors.TlfifError, where: Where) -> str:
    assert isinstance(exc, client.ServiceUnreachable)
    hint = "is `make up` running?" if where.local else "check your network and the profile"
    return f"cannot reach {exc.service} at {exc.url}: {hint}"


def _not_found(exc: errors.TlfifError, where: Where) -> str:
    job = f"job {where.job_id}" if where.job_id else "job"
    return f"unknown {job}: {exc.message} ({where.remedies.list_jobs})"


def _already_answered(exc: errors.TlfifError, where: Where) -> str:
    read = f"; {where.remedies.read_reply(where.job_id)}" if where.job_id else ""
    return f"not cancelled: {exc.message}{read}"


def _timed_out(exc: errors.TlfifError, where: Where) -> str:
    assert isinstance(exc, client.WaitTimedOut)
    return f"{exc.message}; the job goes on: {where.remedies.fetch_later(exc.job_id)}"


def _api_key_refused(exc: errors.TlfifError, where: Where) -> str:
    assert isinstance(exc, ApiKeyRefused)
    return (
        f"{exc.message} in {exc.source} (revoked, mistyped, or another deployment's): "
        "set it to a key from `tlfif keys create`, or unset it to log in"
    )


def _retry(prefix: str) -> Describe:
    def line(exc: errors.TlfifError, where: Where) -> str:
        after = f"; retry after {exc.retry_after} s" if exc.retry_after else ""
        return f"{prefix.format(r=where.remedies)}: {exc.message}{after}"

    return line


def _plain(template: str) -> Describe:
    """`template` with {message} and the client's remedies as {r.login} and the like."""
    return lambda exc, where: template.format(message=exc.message, r=where.remedies)


TABLE: dict[type[errors.TlfifError], tuple[Outcome, Describe]] = {
    client.ServiceUnreachable: (Outcome.UNREACHABLE, _unreachable),
    errors.ConfigError: (Outcome.UNREACHABLE, _plain("{message}")),
    client.NotLoggedIn: (Outcome.AUTH, _plain("{message}: {r.login}")),
    client.LoginFailed: (Outcome.AUTH, _plain("login failed: {message}; {r.retry_login}")),
    ApiKeyRefused: (Outcome.AUTH, _api_key_refused),
    client.SessionExpired: (
        Outcome.AUTH,
        _plain("your session expired ({message}): {r.login_again}"),
    ),
    errors.TokenInvalid: (
        Outcome.AUTH,
        _plain("the API refused your session ({message}): {r.login}"),
    ),
    errors.Forbidden: (Outcome.AUTH, _plain("not allowed: {message}")),
    errors.InvalidInput: (Outcome.USAGE, _plain("invalid input: {message}")),
    errors.JobNotFound: (Outcome.NOT_FOUND, _not_found),
    errors.AlreadyAnswered: (Outcome.FAILED, _already_answered),
    errors.KeyNotFound: (Outcome.NOT_FOUND, _plain("{message}; `tlfif keys list` shows them")),
    errors.KeyExists: (Outcome.USAGE, _plain("{message}")),
    errors.KeyStoreError: (Outcome.REFUSED, _retry("the API key store is unavailable")),
    errors.WebhookStoreError: (
        Outcome.REFUSED,
        _retry("the webhook secret store is unavailable"),
    ),
    errors.UsageStoreError: (Outcome.REFUSED, _retry("the usage store is unavailable")),
    errors.Throttled: (Outcome.REFUSED, _retry("throttled")),
    errors.WakeHeld: (Outcome.REFUSED, _plain("not woken: {message}")),
    errors.BudgetHold: (
        Outcome.REFUSED,
        _plain(
            "budget hold: {message}; it lifts when the month turns, or {r.lift_budget} "
            "(nothing was queued)"
        ),
    ),
    errors.NodeStartRefused: (
        Outcome.REFUSED,
        _retry("the node refused to start (your prompt stays queued; {r.status})"),
    ),
    errors.QueueUnavailable: (
        Outcome.REFUSED,
        _retry("the queue is unavailable, nothing was queued"),
    ),
    client.ServiceUnavailable: (Outcome.REFUSED, _retry("the TL-FIF API is unavailable")),
    client.UnexpectedResponse: (
        Outcome.UNREACHABLE,
        _plain("{message} (is the profile's api_url right?)"),
    ),
    client.WaitTimedOut: (Outcome.TIMED_OUT, _timed_out),
    errors.TlfifError: (Outcome.FAILED, _retry("failed")),
}


def describe(exc: errors.TlfifError, where: Where) -> Failure:
    for error_class in type(exc).__mro__:
        if error_class in TABLE:
            outcome, line = TABLE[error_class]
            return Failure(line(exc, where), outcome)
    raise AssertionError("TlfifError is in TABLE")  # pragma: no cover
