"""SelfStop through IMDSv2 and EC2: the node learns its own id, then stops itself.

The seed's path: IMDSv2 token -> instance id -> StopInstances(self). It needs an egress
path to the EC2 API and ec2:StopInstances on the node's own instance in its role.
"""

from __future__ import annotations

import httpx

from tlfif.aws.ec2 import ec2_client, ec2_errors
from tlfif.errors import NodeControlError

# IMDSv2 token TTL: AWS caps it at 21600 s (6 h).
TOKEN_TTL_SECONDS = 21600
TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


class ImdsSelfStop:
    """Reads the instance id from IMDSv2 (once) and stops that instance."""

    def __init__(self, imds_url: str, region: str, timeout_seconds: float = 2.0) -> None:
        self._imds_url = imds_url.rstrip("/")
        self._region = region
        self._timeout = timeout_seconds
        self._instance_id: str | None = None

    def instance_id(self) -> str:
        if self._instance_id is None:
            self._instance_id = self._read_instance_id()
        return self._instance_id

    def stop_self(self) -> None:
        instance_id = self.instance_id()
        with ec2_errors("StopInstances"):
            ec2_client(self._region).stop_instances(InstanceIds=[instance_id])

    def _read_instance_id(self) -> str:
        try:
            with httpx.Client(base_url=self._imds_url, timeout=self._timeout) as imds:
                token = imds.put(
                    "/latest/api/token", headers={TOKEN_TTL_HEADER: str(TOKEN_TTL_SECONDS)}
                )
                token.raise_for_status()
                answer = imds.get(
                    "/latest/meta-data/instance-id", headers={TOKEN_HEADER: token.text}
                )
                answer.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise NodeControlError(
                f"IMDS at {self._imds_url} answered {exc.response.status_code} "
                f"to {exc.request.method} {exc.request.url.path}"
            ) from exc
        except httpx.HTTPError as exc:
            raise NodeControlError(f"IMDS at {self._imds_url} is unreachable: {exc}") from exc
        instance_id = answer.text.strip()
        if not instance_id.startswith("i-"):
            raise NodeControlError(f"IMDS returned no instance id: {instance_id[:40]!r}")
        return instance_id
