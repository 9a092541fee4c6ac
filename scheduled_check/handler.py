"""Lambda on an EventBridge schedule (each minute): one run of the scheduled check.

The check lives in the core (tlfif/check.py); locally `python -m scheduled_check --every 60`
runs the same in a loop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tlfif.aws.ec2 import Ec2Fleet, Ec2NodeControl
from tlfif.aws.s3 import S3ReplyStore
from tlfif.check import CheckPorts, CheckReport, run_check
from tlfif.redis_conn import RedisClient, connect
from tlfif.runtime.lambda_logs import lambda_logger
from tlfif.runtime.metrics import EmfMetrics
from tlfif.runtime.warm import Warm
from tlfif.settings import CheckSettings, CommonSettings
from tlfif.silent import NodeLaunches
from tlfif.wake import Scaling

logger = lambda_logger("scheduled_check")


@dataclass(frozen=True)
class Checker:
    settings: CheckSettings
    redis: RedisClient
    ports: CheckPorts
    scaling: Scaling = field(default_factory=Scaling)
    launches: NodeLaunches | None = None

    async def run(self) -> CheckReport:
        return await run_check(
            self.redis, self.ports, self.settings, scaling=self.scaling, launches=self.launches
        )

    async def aclose(self) -> None:
        await self.redis.aclose()


def build() -> Checker:
    common, settings = CommonSettings.load(), CheckSettings.load()
    # The adapters import boto3 on their first call, not here: a run that finds a live
    # heartbeat and nothing to do makes no AWS call at all.
    control, fleet = Ec2NodeControl(common), Ec2Fleet(common)
    ports = CheckPorts(
        node_control=lambda: control,
        fleet=lambda: fleet,
        replies=S3ReplyStore(common.bucket, common.region),
        metrics=EmfMetrics("scheduled_check"),
    )
    redis = connect(common.redis_url, cluster=common.redis_cluster)
    return Checker(settings, redis, ports, Scaling.of(common), Ec2Fleet(common))


warm = Warm(build)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    checker = warm.get()
    report = asdict(warm.run(checker.run()))
    logger.info("check done", extra=report)
    return report
