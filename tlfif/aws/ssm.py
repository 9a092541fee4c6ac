"""ReadinessMarker on SSM Parameter Store: the seed's /tl-fif/ready/<instance-id>.

For operators only (`aws ssm get-parameter`); the router reads readiness from the
heartbeat in Redis, never from here. boto3 is imported on first use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tlfif.aws.s3 import fail_fast_client
from tlfif.errors import NodeControlError

DEFAULT_PREFIX = "/tl-fif/ready/"


class SsmReadinessMarker:
    """Writes the time the node became ready, as an ISO 8601 UTC timestamp."""

    def __init__(self, region: str, prefix: str = DEFAULT_PREFIX) -> None:
        self._region = region
        self._prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._ssm: Any = None

    def parameter_name(self, instance_id: str) -> str:
        return f"{self._prefix}{instance_id}"

    def mark_ready(self, instance_id: str, ready_ms: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.parameter_name(instance_id)
        value = datetime.fromtimestamp(ready_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
        try:
            # Overwrite: a node that stops and starts again is ready again.
            self._client().put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        except (BotoCoreError, ClientError) as exc:
            raise NodeControlError(f"SSM PutParameter {name} failed: {exc}") from exc

    def _client(self) -> Any:
        if self._ssm is None:
            self._ssm = fail_fast_client("ssm", self._region, read_timeout=5)
        return self._ssm
