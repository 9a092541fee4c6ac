"""The scheduled check against real redis-server and moto (EC2, S3): starts for jobs nobody
polls, holds, dead nodes' jobs, expired jobs, the idle safety net, the uptime ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import boto3
import pytest

from scheduled_check import handler as scheduled_check
from tests.doubles.cloud import MetricsDouble
from tests.doubles.lambda_context import LambdaContextDouble
from tests.fixtures.emf import metric_values
from tests.fixtures.lambdas import fresh
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import RedisServer
from tlfif import keys
from tlfif.aws.ec2 import Ec2Fleet, Ec2NodeControl
from tlfif.aws.s3 import S3ReplyStore
from tlfif.check import CheckPorts, CheckReport, run_check
from tlfif.contracts import InferRequest, Job, now_ms
from tlfif.nodes import NodeRegistry
from tlfif.queue import JobQueue
from tlfif.redis_conn import RedisClient, connect
from tlfif.settings import CheckSettings, CommonSettings
from tlfif.uptime import UptimeStore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE = "i-watcher"
MINUTE = 60_000


@dataclass
class World:
    redis: RedisClient
    queue: JobQueue
    registry: NodeRegistry
    metrics: MetricsDouble
    replies: S3ReplyStore
    node: str

    async def check(self, clock_offset_ms: int = 0) -> CheckReport:
        common = CommonSettings()
        control, fleet = Ec2NodeControl(common), Ec2Fleet(common)
        ports = CheckPorts(lambda: control, lambda: fleet, self.replies, self.metrics)
        return await run_check(
            self.redis, ports, CheckSettings(), clock=lambda: now_ms() + clock_offset_ms
        )

    async def enqueue(self, prompt: str = "hello") -> str:
        job = Job.from_request(InferRequest(prompt=prompt), "alice")
        return (await self.queue.enqueue(job)).id


@pytest.fixture
async def world(
    redis_server: RedisServer, node_instance: str, replies_bucket: str
) -> AsyncIterator[World]:
    redis = connect(redis_server.url)
    yield World(
        redis, JobQueue(redis), NodeRegistry(redis), MetricsDouble(),
        S3ReplyStore(replies_bucket, REGION), node_instance,
    )  # fmt: skip
    await redis.aclose()


def ec2_state(instance_id: str) -> str:
    reservations = boto3.client("ec2", region_name=REGION).describe_instances(
        InstanceIds=[instance_id]
    )["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])


def start(instance_id: str) -> None:
    boto3.client("ec2", region_name=REGION).start_instances(InstanceIds=[instance_id])


@pytest.mark.anyio
async def test_a_job_nobody_polls_starts_the_node(world: World) -> None:
    await world.enqueue()
    report = await world.check()
    assert (report.action, report.queue_depth, report.node_up) == ("started", 1, False)
    assert ec2_state(world.node) in ("pending", "running")
    assert world.metrics.counts["EC2Starts"] == 1
    # The next minute: the node is on its way, nothing is started twice.
    assert (await world.check()).action == "none"
    assert world.metrics.counts["EC2Starts"] == 1


@pytest.mark.anyio
async def test_a_manual_hold_keeps_it_stopped(world: World) -> None:
    await world.registry.set_hold("manual")
    await world.enqueue()
    report = await world.check()
    assert (report.action, report.hold) == ("held_manual", "manual")
    assert ec2_state(world.node) == "stopped"


@pytest.mark.anyio
async def test_a_budget_hold_keeps_it_stopped_and_stops_it_if_it_runs(world: World) -> None:
    start(world.node)
    await world.enqueue()  # queued before the hold: nothing is queued under it
    await world.registry.set_hold("budget", 3600)
    report = await world.check()
    assert (report.action, report.hold) == ("budget_stop", "budget")
    assert ec2_state(world.node) in ("stopping", "stopped")
    assert world.metrics.counts["BudgetStops"] == 1
    assert "EC2Starts" not in world.metrics.counts


@pytest.mark.anyio
async def test_a_dead_nodes_jobs_go_back_and_wake_the_node(world: World) -> None:
    job_id = await world.enqueue()
    assert await world.queue.claim_next(NODE, timeout=1) == job_id
    await world.redis.sadd(keys.NODES, NODE)  # its heartbeat has lapsed: no node key
    report = await world.check()
    assert report.requeued == {NODE: 1}
    assert await world.queue.state(job_id) == "queued"
    assert report.action == "started"


@pytest.mark.anyio
async def test_expired_jobs_are_answered_and_ghosts_dropped(world: World) -> None:
    job_id = await world.enqueue()
    await world.redis.delete(keys.job(job_id))  # its TTL ran out before any node took it
    ghost = "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11"
    await world.redis.lpush(keys.PENDING, ghost)  # neither job nor owner left
    report = await world.check()
    assert (report.expired, report.queue_depth, report.action) == (1, 0, "none")
    owner = await world.queue.owner(job_id)
    assert owner is not None
    reply = await world.replies.get_reply(owner.reply_key)
    assert reply is not None and reply.status == "expired"
    assert await world.queue.state(job_id) == "done"
    assert ec2_state(world.node) == "stopped"


@pytest.mark.anyio
async def test_the_net_stops_a_node_whose_watcher_overran_its_idle_time(world: World) -> None:
    start(world.node)
    await world.registry.beat(
        NODE, "ready", 30, idle_seconds=60.0, idle_since_ms=now_ms() - 400_000
    )  # idle since 400 s, window 60 s: 40 s past idle + 5 min
    report = await world.check()
    assert report.action == "idle_stop"
    assert ec2_state(world.node) in ("stopping", "stopped")
    assert world.metrics.counts["SafetyNetStops"] == 1
    [beat] = await world.registry.heartbeats()
    assert beat.state == "stopping"


@pytest.mark.anyio
async def test_the_net_leaves_a_node_within_its_time_or_in_use(world: World) -> None:
    start(world.node)
    await world.registry.beat(
        NODE, "ready", 30, idle_seconds=60.0, idle_since_ms=now_ms() - 100_000
    )
    assert (await world.check()).action == "none"
    # A watcher that does not tell its window is trusted, however long it has been.
    await world.registry.beat(NODE, "ready", 30)
    assert (await world.check(clock_offset_ms=600 * MINUTE)).action == "none"
    assert ec2_state(world.node) == "running"


@pytest.mark.anyio
async def test_the_net_stops_a_running_node_with_no_watcher(world: World) -> None:
    start(world.node)
    assert (await world.check()).action == "none"  # first seen: the clock starts
    assert (await world.check(clock_offset_ms=30 * MINUTE)).action == "none"
    late = await world.check(clock_offset_ms=36 * MINUTE)  # fallback 30 min + 5 min
    assert late.action == "idle_stop"
    assert ec2_state(world.node) in ("stopping", "stopped")


@pytest.mark.anyio
async def test_the_uptime_ledger_follows_the_node(world: World) -> None:
    assert (await world.check()).node_up is False
    start(world.node)
    await world.check(clock_offset_ms=MINUTE)
    ledger = await world.check(clock_offset_ms=3 * MINUTE)
    assert ledger.node_up is True
    sessions = (await UptimeStore(world.redis).load()).sessions
    assert len(sessions) == 1 and 2 * MINUTE <= sessions[0][1] - sessions[0][0] < 3 * MINUTE


@pytest.fixture
def check_env(
    redis_server: RedisServer, node_instance: str, replies_bucket: str,
    lambda_env: pytest.MonkeyPatch,
) -> pytest.MonkeyPatch:  # fmt: skip
    lambda_env.setenv("TLFIF_REDIS_URL", redis_server.url)
    lambda_env.setenv("TLFIF_BUCKET", replies_bucket)
    return lambda_env


def test_the_lambda_handler_reports_and_emits(
    check_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for module in fresh(scheduled_check):
        report = module.handler({"source": "aws.events"}, LambdaContextDouble())
        assert report["action"] == "none" and report["node_up"] is False
        assert metric_values(capsys.readouterr().out, "QueueDepth") == [0.0]


def test_the_local_loop_runs_once_and_logs_json(check_env: pytest.MonkeyPatch) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "scheduled_check", "--once"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    [done] = [line for line in lines if line.get("message") == "check done"]
    assert done["action"] == "none" and done["queue_depth"] == 0


def test_the_local_loop_refuses_a_bad_setting(check_env: pytest.MonkeyPatch) -> None:
    check_env.setenv("TLFIF_CHECK_IDLE_GRACE", "5")
    run = subprocess.run(
        [sys.executable, "-m", "scheduled_check", "--once"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "TLFIF_CHECK_IDLE_GRACE" in run.stdout
