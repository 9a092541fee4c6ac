"""NodeLaunches on EC2: the running tagged instances and their LaunchTime (set again by
every start from stopped), for the scheduled check's NodesSilent (tlfif/silent.py)."""

from __future__ import annotations

from typing import Any

from tlfif.aws.ec2 import ec2_client, ec2_errors
from tlfif.settings import CommonSettings


class Ec2Launches:
    def __init__(self, settings: CommonSettings) -> None:
        self._region = settings.region
        self._tag_key = settings.node_tag_key
        self._tag_value = settings.node_tag_value
        self._ec2: Any = None

    def running_since(self) -> dict[str, int]:
        if self._ec2 is None:
            self._ec2 = ec2_client(self._region)
        with ec2_errors("DescribeInstances"):
            pages = self._ec2.get_paginator("describe_instances").paginate(
                Filters=[
                    {"Name": f"tag:{self._tag_key}", "Values": [self._tag_value]},
                    {"Name": "instance-state-name", "Values": ["running"]},
                ]
            )
            return {
                i["InstanceId"]: int(i["LaunchTime"].timestamp() * 1000)
                for p in pages
                for r in p["Reservations"]
                for i in r["Instances"]
            }
