"""NodeControl on EC2: the GPU nodes are the instances tagged env=tinyllama (ADR 0032).

boto3 is imported on first use, not with this module: the router imports this class on its
warm path, where boto3's ~190 ms import would break the latency budget, and only calls it
on the cold path (no heartbeat in Redis).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from tlfif.errors import NodeControlError, NodeStartRefused
from tlfif.nodes import fleet_state
from tlfif.ports import InstanceState
from tlfif.settings import CommonSettings

# AWS's answers to StartInstances that mean "not now", not "broken": the job stays queued
# and the next poll or scheduled check tries again.
START_REFUSED_CODES = frozenset(
    {
        "InsufficientInstanceCapacity",
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "IncorrectInstanceState",
    }
)
# A terminated instance keeps its tag for a while; it is not the node any more.
LIVE_STATES = ["pending", "running", "stopping", "stopped"]


class Ec2NodeControl:
    """Finds the nodes by their tag on every call, so a replaced instance is picked up.

    One tagged instance is the node; several (infra's node_count_max, ADR 0032) are a
    fleet: started one at a time, the lowest instance id first, and stopped together.
    """

    def __init__(self, settings: CommonSettings) -> None:
        self._region = settings.region
        self._tag_key = settings.node_tag_key
        self._tag_value = settings.node_tag_value
        self._ec2: Any = None

    def state(self) -> InstanceState:
        return fleet_state(self.instance_states())

    def start(self) -> InstanceState:
        states = self.instance_states()
        awake = [i for i, state in states.items() if state in ("pending", "running")]
        if awake:
            return states[awake[0]]
        stopped = [i for i, state in states.items() if state == "stopped"]
        if not stopped:  # all on their way down: the next poll starts one once stopped
            return fleet_state(states)
        return self._start(stopped[0])

    def stop(self) -> InstanceState:
        states = self.instance_states()
        awake = sorted(i for i, state in states.items() if state in ("pending", "running"))
        if not awake:
            return fleet_state(states)
        with ec2_errors("StopInstances"):
            response = self._client().stop_instances(InstanceIds=awake)
        for change in response["StoppingInstances"]:
            states[change["InstanceId"]] = change["CurrentState"]["Name"]
        return fleet_state(states)

    def instance_states(self) -> dict[str, InstanceState]:
        with ec2_errors("DescribeInstances"):
            pages = (
                self._client()
                .get_paginator("describe_instances")
                .paginate(
                    Filters=[
                        {"Name": f"tag:{self._tag_key}", "Values": [self._tag_value]},
                        {"Name": "instance-state-name", "Values": LIVE_STATES},
                    ]
                )
            )
            found = {
                i["InstanceId"]: cast(InstanceState, i["State"]["Name"])
                for p in pages
                for r in p["Reservations"]
                for i in r["Instances"]
            }
        if not found:
            tag = f"{self._tag_key}={self._tag_value}"
            raise NodeControlError(f"no EC2 instance tagged {tag} in {self._region}")
        return dict(sorted(found.items()))

    def scale_out(self, limit: int) -> InstanceState | None:
        states = self.instance_states()
        awake = sum(state in ("pending", "running") for state in states.values())
        stopped = [i for i, state in states.items() if state == "stopped"]
        if awake >= limit or not stopped:
            return None
        return self._start(stopped[0])

    def _start(self, instance_id: str) -> InstanceState:
        with ec2_errors("StartInstances", refused=START_REFUSED_CODES):
            response = self._client().start_instances(InstanceIds=[instance_id])
        return cast(InstanceState, response["StartingInstances"][0]["CurrentState"]["Name"])

    def _client(self) -> Any:
        if self._ec2 is None:
            self._ec2 = ec2_client(self._region)
        return self._ec2


class Ec2Fleet:
    """Every running instance tagged as the node: the budget killer stops all of them, not
    only the one Ec2NodeControl would pick; the scheduled check reads their LaunchTime (set
    again by every start from stopped) for NodesSilent (tlfif/silent.py)."""

    def __init__(self, settings: CommonSettings) -> None:
        self._region = settings.region
        self._tag_key = settings.node_tag_key
        self._tag_value = settings.node_tag_value
        self._ec2: Any = None

    def stop_all_running(self) -> list[str]:
        # A pending instance cannot be stopped yet (IncorrectInstanceState); the scheduled
        # check stops it once it runs, while the hold is set.
        ids = sorted(instance["InstanceId"] for instance in self._running())
        if ids:
            with ec2_errors("StopInstances"):
                self._client().stop_instances(InstanceIds=ids)
        return ids

    def running_since(self) -> dict[str, int]:
        """Each running node's id -> its LaunchTime in epoch ms."""
        return {
            instance["InstanceId"]: int(instance["LaunchTime"].timestamp() * 1000)
            for instance in self._running()
        }

    def _running(self) -> list[dict[str, Any]]:
        with ec2_errors("DescribeInstances"):
            pages = (
                self._client()
                .get_paginator("describe_instances")
                .paginate(
                    Filters=[
                        {"Name": f"tag:{self._tag_key}", "Values": [self._tag_value]},
                        {"Name": "instance-state-name", "Values": ["running"]},
                    ]
                )
            )
            return [i for p in pages for r in p["Reservations"] for i in r["Instances"]]

    def _client(self) -> Any:
        if self._ec2 is None:
            self._ec2 = ec2_client(self._region)
        return self._ec2


def ec2_client(region: str) -> Any:
    """An EC2 client with short timeouts; AWS_ENDPOINT_URL reaches an emulator."""
    import boto3.session
    from botocore.config import Config

    config = Config(
        connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2}
    )
    return boto3.session.Session().client("ec2", region_name=region, config=config)


@contextmanager
def ec2_errors(action: str, refused: frozenset[str] = frozenset()) -> Iterator[None]:
    """Maps botocore failures of one EC2 call onto the TL-FIF error tree."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        detail = f"{code}: {error.get('Message', '')}".rstrip(": ")
        if code in refused:
            raise NodeStartRefused(f"EC2 refused {action}: {detail}") from exc
        raise NodeControlError(f"EC2 {action} failed: {detail}") from exc
    except BotoCoreError as exc:
        raise NodeControlError(f"EC2 {action} failed: {exc}") from exc
