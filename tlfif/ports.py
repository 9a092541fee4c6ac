"""The ports the core talks through; AWS adapters live in tlfif/aws/, doubles in tests/.

Each Protocol is what the core needs of the outside world, no more: the router and the
watcher are written against these, never against boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from tlfif.api_key_contracts import ApiKey
from tlfif.contracts import Reply
from tlfif.usage_contracts import UsageDelta, UsageRecord
from tlfif.webhook_contracts import WebhookProfile, WebhookRecord

# EC2's own instance state names.
InstanceState = Literal["pending", "running", "stopping", "stopped", "shutting-down", "terminated"]


class NodeControl(Protocol):
    """The GPU nodes as the cloud sees them (EC2 instances found by their env tag, ADR
    0032): one or several, of which `state` and `start` treat the fleet as one node until
    a backlog asks for more (`scale_out`)."""

    def state(self) -> InstanceState:
        """The fleet's state: the most awake of its instances' (running, then pending,
        stopping, stopped). Raises NodeControlError."""
        ...

    def start(self) -> InstanceState:
        """Start the lowest-id stopped instance unless one is pending or running already;
        returns the state AWS reports for it (or the awake one's).

        Raises NodeStartRefused when AWS refuses (capacity, throttling, wrong state),
        NodeControlError on anything else.
        """
        ...

    def stop(self) -> InstanceState:
        """StopInstances on every pending or running instance; returns the fleet's state
        AWS reports after the call."""
        ...

    def instance_states(self) -> dict[str, InstanceState]:
        """Every tagged instance's state, by instance id. Raises NodeControlError."""
        ...

    def scale_out(self, limit: int) -> InstanceState | None:
        """Start one more stopped instance while fewer than `limit` are pending or running;
        None when there is none to start. Raises as `start` does."""
        ...


class ReplyStore(Protocol):
    """Where replies land (S3 replies/<sub>/<id>.json), written once.

    Async, unlike the other ports: a reply is written on the watcher's per-job path, so an
    adapter that blocks (boto3) hops to a thread itself, and one that does not pays no hop.
    """

    async def put_reply(self, key: str, reply: Reply) -> None:
        """Write once (If-None-Match: *). Raises ReplyExists if already written,
        ReplyStoreError on any other failure."""
        ...

    async def get_reply(self, key: str) -> Reply | None:
        """The reply, or None if not written yet. Raises ReplyStoreError."""
        ...


class ApiKeyStore(Protocol):
    """Where API keys outlive Redis (S3 api-keys/<hash>.json, ADR 0027): hashes, never
    secrets. Every method raises KeyStoreError on a failure of the store."""

    async def put_key(self, key: ApiKey) -> None:
        """Write a new key's record (its last-used time is kept apart, by touch_key)."""
        ...

    async def get_key(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, its last use included; None if there is none."""
        ...

    async def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        ...

    async def delete_key(self, key_hash: str) -> None:
        """Forget the key (and its last use); no error if it is gone already."""
        ...

    async def touch_key(self, key_hash: str, used_ms: int) -> None:
        """Record the key's last use. A touch that lands after delete_key leaves no key."""
        ...


class WebhookSecrets(Protocol):
    """Where each user's webhook secret and setting are kept (S3 webhook-secrets/<sub>.json,
    SSE-KMS, ADR 0031): the secret itself, encrypted at rest, for the sender signs with it.
    Every method raises WebhookStoreError on a failure of the store."""

    async def get_profile(self, sub: str) -> WebhookProfile | None:
        """The user's profile; None if they have none yet."""
        ...

    async def put_profile(self, sub: str, profile: WebhookProfile) -> None:
        """Write the profile over whatever is there."""
        ...

    async def update_profile(
        self, sub: str, change: Callable[[WebhookProfile | None], WebhookProfile]
    ) -> WebhookProfile:
        """Read the profile, apply `change`, write what it returns unless that is what was
        read, and return it. A write that raced another (a rotate beside a settings change)
        reads and applies again, so neither is lost: a rotated secret is never undone."""
        ...


class WebhookRecords(Protocol):
    """Where a request's webhook waits for its reply (S3 webhooks/<sub>/<id>.json, ADR
    0031), written before the job is queued. Raises ReplyStoreError on a failure."""

    async def put_record(self, sub: str, job_id: str, record: WebhookRecord) -> None: ...


class UsageStore(Protocol):
    """Each user's month of usage (S3 usage/<YYYY-MM>/<sub>.json, ADR 0034), kept apart
    from Redis so a Redis restart loses none of it. Every method raises UsageStoreError on a
    failure of the store."""

    async def add(self, month: str, sub: str, mark: str, delta: UsageDelta) -> UsageRecord:
        """Add `delta` to the user's month unless `mark` (a job id) was counted already;
        returns the record. A write that raced another reads and adds again."""
        ...

    async def get(self, month: str, sub: str) -> UsageRecord | None:
        """The user's month, or None if they used nothing in it."""
        ...

    async def list_month(self, month: str) -> dict[str, UsageRecord]:
        """Every user's month, by sub (the owner's view)."""
        ...


class SelfStop(Protocol):
    """How the node stops itself once idle."""

    def instance_id(self) -> str: ...

    def stop_self(self) -> None: ...


class ReadinessMarker(Protocol):
    """The seed's SSM parameter /tl-fif/ready/<instance-id>, for operators."""

    def mark_ready(self, instance_id: str, ready_ms: int) -> None: ...


class Metrics(Protocol):
    """CloudWatch metrics as EMF lines (namespace TLFIF); no API call on a request path."""

    def count(self, name: str, value: float = 1.0) -> None: ...


class NodeFleet(Protocol):
    """Every instance carrying the node's tag, for the budget killer: it stops them all,
    not only the one NodeControl would pick."""

    def stop_all_running(self) -> list[str]:
        """StopInstances on every running tagged instance; returns their ids (none: []).
        Raises NodeControlError."""
        ...


class SpendSource(Protocol):
    """Month-to-date spend in USD as AWS bills it (AWS Budgets or Cost Explorer)."""

    name: str

    def month_to_date_usd(self) -> float:
        """Raises SpendUnavailable when the source has no figure to give."""
        ...
