"""One exception tree for everything a caller can act on, and its HTTP mapping.

Each subclass carries the HTTP status and error code it maps to, so the router's error
handler, the CLI and the GUI read one table instead of keeping their own. A failure of
something internal (Redis, S3, EC2) also carries a fixed `public_message`: that is all a
caller is told, while `message`, which may name hosts, buckets or ARNs, goes to the logs.
"""

from __future__ import annotations


class TlfifError(Exception):
    """Root of every error TL-FIF raises on purpose."""

    status = 500
    code = "internal"
    retry_after: int | None = None
    # What a caller is told instead of `message`, where `message` names internals.
    public_message: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def caller_message(self) -> str:
        """The words for whoever made the request: never a host, a bucket or an ARN."""
        return self.public_message or self.message


class InvalidInput(TlfifError):
    status, code = 400, "invalid_input"


class Unsupported(InvalidInput):
    """A request for something TL-FIF does not do (yet): refused, never silently ignored."""

    code = "unsupported"


class TokenInvalid(TlfifError):
    """Any token failure: missing, garbled, bad signature, expired, wrong issuer/client/use."""

    status, code = 401, "unauthorized"


class Forbidden(TlfifError):
    status, code = 403, "forbidden"


class JobNotFound(TlfifError):
    """Unknown id, or another user's: existence is not disclosed."""

    status, code = 404, "not_found"


class KeyNotFound(TlfifError):
    """No API key has this id or name."""

    status, code = 404, "key_not_found"


class KeyExists(TlfifError):
    """A live API key has this name already: names pick the key to revoke."""

    status, code = 409, "key_exists"


class AlreadyAnswered(TlfifError):
    """A cancel of a job whose reply is written already: the reply stands (write-once)."""

    status, code = 409, "already_answered"


class ModelNotFound(TlfifError):
    """A /v1 request names a model the node does not serve."""

    status, code = 404, "model_not_found"


class Throttled(TlfifError):
    status, code = 429, "throttled"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueueUnavailable(TlfifError):
    """Redis cannot be reached or refused the write: nothing was queued."""

    status, code, retry_after = 503, "queue_unavailable", 5
    public_message = "queue unavailable"


class BudgetHold(TlfifError):
    """The budget killer set a hold: starts are refused, nothing is queued."""

    status, code, retry_after = 503, "budget_reached", 3600


class ReplyPending(TlfifError):
    """A /v1 request's reply did not come while the router held it. The job stays queued;
    the same request again resumes it (ADR 0024)."""

    status, code = 503, "reply_pending"

    def __init__(self, message: str, *, retry_after: int = 5, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class NodeHeld(TlfifError):
    """The owner's manual hold keeps the node stopped: a plain user's /v1 request is
    queued, and waits for the owner, longer than any client retries."""

    status, code, retry_after = 503, "node_held", 60


class WakeHeld(TlfifError):
    """POST /wake by anyone but the owner while the owner's manual hold keeps the node
    stopped: only the owner lifts it (ADR 0029)."""

    status, code = 409, "manual_hold"


class ReplyFailed(TlfifError):
    """A /v1 request's job was answered with an error (the reply's error_code is the code);
    its words are fixed per code, never the engine's own."""

    status, code = 502, "reply_failed"

    def __init__(
        self,
        message: str,
        *,
        code: str = "reply_failed",
        status: int = 502,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.code = code
        self.status = status


class NodeStartRefused(TlfifError):
    """AWS refused StartInstances (capacity, throttling). The job stays queued."""

    status, code, retry_after = 503, "node_start_refused", 30
    public_message = "the node could not be started"


class NodeControlError(TlfifError):
    """Any other failure talking to the node's cloud API."""

    status, code, retry_after = 503, "node_control_failed", 10
    public_message = "the node's cloud API failed"


class ReplyStoreError(TlfifError):
    status, code, retry_after = 503, "reply_store_unavailable", 5
    public_message = "reply store unavailable"


class KeyStoreError(TlfifError):
    """The durable store of API keys (S3 api-keys/) failed."""

    status, code, retry_after = 503, "key_store_unavailable", 5
    public_message = "key store unavailable"


class WebhookStoreError(TlfifError):
    """The store of webhook secrets and settings (S3 webhook-secrets/, ADR 0031) failed."""

    status, code, retry_after = 503, "webhook_store_unavailable", 5
    public_message = "webhook secret store unavailable"


class UsageStoreError(TlfifError):
    """The usage records (S3 usage/<month>/<sub>.json, ADR 0034) could not be read or kept."""

    status, code, retry_after = 503, "usage_store_unavailable", 5
    public_message = "usage store unavailable"


class NotifyError(TlfifError):
    """Publishing to the replies topic (SNS, ADR 0031) failed."""

    status, code = 503, "notify_unavailable"
    public_message = "notification topic unavailable"


class ReplyExists(TlfifError):
    """The write-once reply was written already (S3 412): the job is answered."""

    status, code = 409, "reply_exists"


class EngineError(TlfifError):
    """The engine refused the job: an HTTP error, a reported error, a stream that ended
    without a finish_reason, no full reply in time. Retried a few times, then answered."""

    status, code = 502, "engine_error"


class EngineDown(EngineError):
    """The engine itself is gone: the connection was refused, reset or cut mid-reply (it
    crashed, or is restarting). Not held against the job, unless the job was running in it
    when it went (`while_running`): such a job may be what kills it (ADR 0018)."""

    code = "engine_down"

    def __init__(self, message: str, *, while_running: bool = False) -> None:
        super().__init__(message)
        self.while_running = while_running


class JobExpired(TlfifError):
    status, code = 410, "expired"


class SpendUnavailable(TlfifError):
    """AWS gave no month-to-date spend (Budgets or Cost Explorer): nothing is published,
    least of all a 0 that would read as "nothing spent"."""

    status, code, retry_after = 503, "spend_unavailable", 60
    public_message = "the month's spend is unavailable"


class MalformedAlert(TlfifError):
    """An SNS message that is not an AWS Budgets alert the budget killer acts on."""

    status, code = 400, "malformed_alert"


class ConfigError(TlfifError):
    """A setting is invalid or unknown; raised at start, naming it."""

    code = "config"
