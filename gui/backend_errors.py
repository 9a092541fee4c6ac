"""The GUI's failures, each naming the backend it came from (seed section 12).

They join the one tree under TlfifError. The class says what the GUI does next:
BackendTransient is retried (0.5 s, 1 s, 2 s, then "cold-starting"), BackendBusy is waited
out, anything else ends the send with the message shown.
"""

from __future__ import annotations

from tlfif.errors import TlfifError


class BackendError(TlfifError):
    """A backend's failure; str() starts with the backend's name."""

    code = "backend_failed"

    def __init__(self, backend: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend
        self.detail = message
        if retry_after is not None:
            self.retry_after = retry_after


class BackendTransient(BackendError):
    """502/504 or no connection: the server may be cold-starting."""

    status, code = 503, "backend_transient"


class BackendBusy(BackendError):
    """Throttled or briefly unavailable, with a time to wait; nothing is lost by waiting."""

    status, code = 503, "backend_busy"


class BackendAuthError(BackendError):
    """The backend refused the credentials even after a refresh, or there are none."""

    status, code = 401, "backend_auth"


class BackendRefused(BackendError):
    """A final answer: bad input, budget hold, unknown model. Retrying would not help."""

    status, code = 400, "backend_refused"


class ReplyFailed(BackendError):
    """The job ended without text: the reply says error, expired or cancelled."""

    status, code = 502, "reply_failed"


class NotSupported(BackendError):
    """What this backend cannot do (OpenAI has no GPU node to stop and no AWS bill)."""

    status, code = 501, "not_supported"


class WaitAbandoned(BackendError):
    """The window closed, or the wait ran past its limit; the job itself may go on."""

    code = "wait_abandoned"
