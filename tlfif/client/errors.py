"""Failures only a client meets (CLI, GUI): the API or Cognito out of reach, a login refused.

They join the one tree under TlfifError (tlfif/errors.py), so a caller catches TlfifError
and reads one table; the router never raises these.
"""

from __future__ import annotations

from tlfif.errors import TlfifError, TokenInvalid


class ServiceUnreachable(TlfifError):
    """No connection to the API or to Cognito: refused, DNS, timeout on connect."""

    status, code = 503, "unreachable"

    def __init__(self, message: str, *, service: str, url: str) -> None:
        super().__init__(message)
        self.service = service
        self.url = url


class ServiceUnavailable(TlfifError):
    """A 5xx without one of TL-FIF's own codes (API Gateway's, or the router's catch-all)."""

    status, code, retry_after = 503, "unavailable", 5

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = retry_after


class UnexpectedResponse(TlfifError):
    """An answer the contract does not describe: wrong api_url, a proxy, a version skew."""

    status, code = 502, "unexpected_response"


class NotLoggedIn(TokenInvalid):
    """No tokens stored, and the profile has no demo user to log in with."""

    code = "not_logged_in"


class LoginFailed(TokenInvalid):
    """Cognito refused the username and password (or wants a challenge we do not speak)."""

    code = "login_failed"


class SessionExpired(TokenInvalid):
    """The refresh token was refused: only a new login helps."""

    code = "session_expired"


class WaitTimedOut(TlfifError):
    """The client stopped waiting; the job itself may still be answered later."""

    status, code = 504, "wait_timed_out"

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class LiveTextUnavailable(TlfifError):
    """No live events to read: the router has no events route (an older one), or the stream
    broke. The job is not touched: its reply is waited for by polling instead."""

    status, code = 503, "live_text_unavailable"
