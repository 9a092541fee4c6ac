"""`python -m watcher`: read the settings, wire the AWS adapters, run the node, exit.

Exit status: 0 after a self-stop (an idle one, or one for an engine that never produced a
token or did not come back) or a SIGTERM/SIGINT; 1 when the watcher failed, including a
self-stop that failed (supervisord restarts it, and it tries again); 2 for a bad setting
(named in the log line).
"""

from __future__ import annotations

import asyncio
import logging
import signal

import uvloop

from tlfif.aws.imds import ImdsSelfStop
from tlfif.aws.s3 import S3ReplyStore
from tlfif.aws.ssm import SsmReadinessMarker
from tlfif.aws.usage import S3UsageStore
from tlfif.errors import ConfigError, TlfifError
from tlfif.nodes import NodeRegistry
from tlfif.queue import JobQueue
from tlfif.redis_conn import connect
from tlfif.runtime.logs import configure_logging, log_event
from tlfif.runtime.metrics import EmfMetrics
from tlfif.settings import CommonSettings, WatcherSettings
from watcher.engine import EngineClient
from watcher.node import NodePorts, WatcherNode

log = logging.getLogger("watcher")

SERVICE = "watcher"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def main() -> int:
    configure_logging()
    try:
        common = CommonSettings.load()
        settings = WatcherSettings.load()
    except ConfigError as exc:
        log_event(log, "config_error", logging.ERROR, error=exc.message)
        return EXIT_CONFIG
    try:
        # libuv's loop: a job is a few Redis round trips, and uvloop's transports and
        # timers take a fraction of the CPU the default loop's do (bench: queues).
        return uvloop.run(serve(common, settings))
    except TlfifError as exc:
        log_event(log, "watcher_failed", logging.ERROR, error=exc.message)
    except Exception:
        log.exception("watcher_crashed")
    return EXIT_FAILED


async def serve(common: CommonSettings, settings: WatcherSettings) -> int:
    self_stop = ImdsSelfStop(settings.imds_url, common.region)
    # Outside EC2 (the local stack, tests) the node id is set; on the node IMDS tells it.
    node_id = settings.node_id
    if not node_id:
        node_id = await asyncio.to_thread(self_stop.instance_id)
    redis = connect(common.redis_url, cluster=common.redis_cluster)
    claims = connect(
        common.redis_url,
        cluster=common.redis_cluster,
        blocking_seconds=settings.claim_timeout_seconds,
    )
    engine = EngineClient.from_settings(settings)
    ports = NodePorts(
        store=S3ReplyStore(common.bucket, common.region),
        self_stop=self_stop,
        marker=SsmReadinessMarker(common.region, settings.ready_parameter_prefix),
        metrics=EmfMetrics(SERVICE),
        usage=S3UsageStore(common.bucket, common.region),
    )
    queue = JobQueue(redis, job_ttl_seconds=common.job_ttl_seconds, blocking=claims)
    node = WatcherNode(
        settings, node_id, queue, NodeRegistry(redis), engine, ports, common.node_hour_eur
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, node.request_shutdown)
    try:
        reason = await node.run()
    finally:
        await engine.aclose()
        await redis.aclose()
        await claims.aclose()
    return EXIT_FAILED if reason == "engine_failed_running" else EXIT_OK
