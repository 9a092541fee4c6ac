"""The scheduled check's NodesSilent (ADR 0033) with the real EC2 adapter on moto and a
real redis-server: 0 while the node is stopped or booting, 1 past the boot grace with no
heartbeat, 0 again once the watcher beats; no DescribeInstances while every node beats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import boto3
import pytest

from tests.doubles.cloud import MetricsDouble
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import RedisServer
from tlfif.aws.ec2 import Ec2Fleet, Ec2NodeControl
from tlfif.aws.s3 import S3ReplyStore
from tlfif.check import CheckPorts, CheckReport, run_check
from tlfif.contracts import now_ms
from tlfif.errors import NodeControlError
from tlfif.nodes import NodeRegistry
from tlfif.redis_conn import RedisClient, connect
from tlfif.settings import CheckSettings, CommonSettings
from tlfif.silent import BOOT_GRACE_SECONDS, NODES_SILENT_METRIC, NodeLaunches

PAST_GRACE_MS = (BOOT_GRACE_SECONDS + 60) * 1000


class LaunchesRefused:
    """EC2 failing the launch-time call (a NodeLaunches that raises as the adapter does)."""

    calls = 0

    def running_since(self) -> dict[str, int]:
        self.calls += 1
        raise NodeControlError("EC2 DescribeInstances failed: Throttling")


@dataclass
class World:
    redis: RedisClient
    metrics: MetricsDouble
    node: str
    replies: S3ReplyStore

    async def check(self, launches: NodeLaunches, offset_ms: int = 0) -> CheckReport:
        common = CommonSettings()
        control, fleet = Ec2NodeControl(common), Ec2Fleet(common)
        ports = CheckPorts(lambda: control, lambda: fleet, self.replies, self.metrics)
        return await run_check(
            self.redis,
            ports,
            CheckSettings(),
            clock=lambda: now_ms() + offset_ms,
            launches=launches,
        )


@pytest.fixture
async def world(
    redis_server: RedisServer, node_instance: str, replies_bucket: str
) -> AsyncIterator[World]:
    redis = connect(redis_server.url)
    yield World(redis, MetricsDouble(), node_instance, S3ReplyStore(replies_bucket, REGION))
    await redis.aclose()


@pytest.mark.anyio
async def test_silent_past_the_grace_until_the_watcher_beats(world: World) -> None:
    launches = Ec2Fleet(CommonSettings())
    assert (await world.check(launches)).nodes_silent == 0  # stopped
    boto3.client("ec2", region_name=REGION).start_instances(InstanceIds=[world.node])
    assert launches.running_since().keys() == {world.node}
    assert (await world.check(launches)).nodes_silent == 0  # just started: booting
    assert (await world.check(launches, PAST_GRACE_MS)).nodes_silent == 1
    await NodeRegistry(world.redis).beat(world.node, "ready", 30)
    assert (await world.check(launches, PAST_GRACE_MS)).nodes_silent == 0
    assert world.metrics.values(NODES_SILENT_METRIC) == [0.0, 0.0, 1.0, 0.0]


@pytest.mark.anyio
async def test_every_node_beating_asks_ec2_nothing_and_a_failure_publishes_nothing(
    world: World,
) -> None:
    refused = LaunchesRefused()
    await NodeRegistry(world.redis).beat(world.node, "ready", 30)
    assert (await world.check(refused)).nodes_silent == 0
    assert refused.calls == 0
    await world.redis.flushall()
    boto3.client("ec2", region_name=REGION).start_instances(InstanceIds=[world.node])
    assert (await world.check(refused)).nodes_silent is None
    assert refused.calls == 1
    assert world.metrics.values(NODES_SILENT_METRIC) == [0.0]
