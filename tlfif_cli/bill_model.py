"""What TL-FIF costs a month: the idle floor and N sessions of M minutes, next to the seed's
own diagram priced the same way (`tlfif cost`), with one GPU node or several (ADR 0032).

Every meter is a line: a quantity per month while idle, a quantity per session, and a price
from the dated table in prices_eu_central_1.json (each price names its source). The deployed
design is read from infra/envs/<env>.tfvars, so the figures follow what is deployed. The
always-free allowances (CloudWatch, Lambda, X-Ray) are a line of their own, never hidden.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlfif.errors import ConfigError

PRICES_PATH = Path(__file__).with_name("prices_eu_central_1.json")
HOURS_PER_MONTH = 730.0  # AWS's own convention for monthly figures
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60

# Assumptions, each a measured or stated figure rather than a price.
IMAGE_USED_GB = 15.0  # OS + driver + vLLM venv + TinyLlama: blocks an AMI snapshot bills
BOOT_MINUTES = 2.0  # running -> ready (the seed's cold start is under 90 s)
VALKEY_MIN_GB = 0.1  # ElastiCache Serverless for Valkey meters at least 100 MB
COLD_POLLS = 6  # long polls of ~20 s while the node boots, per session
WARM_CALLS_PER_MINUTE = 3  # POST /infer + ~2 short polls for each prompt, one prompt a minute
NODE_ECPU_PER_SECOND = 4.0  # heartbeats and BLMOVE waits of 4 workers while the node runs
NODE_METRICS = 12 + 4 + 7  # GPU (per GPU and per instance) + watcher EMF + EC2 detailed
NODE_LOG_GB = 0.0002  # vLLM + watcher lines of one session
DR_TEST_HOURS = 0.25  # boot, readiness, terminate
# The webhook sender (ADR 0031), per reply, counting every prompt as naming a webhook: a run
# of ~1 s at 256 MB (a slow receiver holds it longer: at most its 60 s timeout), its log
# lines and EMF, 3 S3 reads (the reply, its webhook record, the owner's secret) besides the
# router's read of the secret and write of the record at submit, and KMS requests: each
# read of the secret (SSE-KMS, aws/s3) is a Decrypt, and SNS takes a data key from aws/sns
# for a publish (GenerateDataKey + Decrypt, a key reused for up to 5 minutes).
SENDER_GB_SECONDS = 1.0 * 0.25
SENDER_LOG_GB = 2e-6
SENDER_S3_GETS = 3
WEBHOOK_KMS_REQUESTS = 2 + 2
# The uptime probe (ADR 0033; infra/main.tf local.ping_check_minutes): each run is ping_check
# (~0.2 s at 128 MB: two GETs) and the two runs it causes behind the gateway, queue_health
# (~20 ms at 256 MB) and the router's /ping (~10 ms); ~3 KB of log lines and EMF in all.
# ping_check and queue_health are untraced; the router's /ping is traced.
PROBE_MINUTES = 1.0
BROKEN_ALARMS = 6  # infra/modules/observability/broken.tf
PROBE_GB_SECONDS = 0.2 * 0.125 + 0.02 * 0.25
PROBE_ROUTER_SECONDS = 0.01
PROBE_LOG_GB = 3e-6


@dataclass(frozen=True)
class Price:
    usd: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class PriceTable:
    region: str
    as_of: str
    usd_per_eur: float
    prices: dict[str, Price]
    free_tier: dict[str, float]

    @classmethod
    def load(cls, path: Path = PRICES_PATH) -> PriceTable:
        raw = json.loads(path.read_text("utf-8"))
        prices = {name: Price(**entry) for name, entry in raw["prices"].items()}
        free = {k: float(v) for k, v in raw["free_tier"].items() if k != "source"}
        return cls(raw["region"], raw["as_of"], float(raw["usd_per_eur"]["value"]), prices, free)

    def usd(self, meter: str) -> float:
        try:
            return self.prices[meter].usd
        except KeyError:
            raise ConfigError(f"no price for {meter} in the {self.region} price table") from None


@dataclass(frozen=True)
class Usage:
    """A month of use: `sessions` sessions of `minutes` minutes of work each."""

    sessions: int = 30
    minutes: float = 5.0
    idle_minutes: float = 5.0  # a job's default idle before the node stops itself

    @property
    def node_hours(self) -> float:
        """A session keeps the node up for boot + work + idle."""
        return self.fleet_hours(1)

    def hours_per_node(self, nodes: int) -> float:
        """Each of `nodes` nodes of a session: its own boot and idle tail, and its share of
        the work (the nodes answer the one queue in parallel)."""
        return (BOOT_MINUTES + self.minutes / nodes + self.idle_minutes) / 60

    def fleet_hours(self, nodes: int) -> float:
        """Node-hours of a session that starts `nodes` nodes: the same work minutes as one
        node, plus a boot and an idle tail for each node beyond the first. The bill's
        assumption for N > 1 is the costliest: every session is a burst that starts all N."""
        return nodes * self.hours_per_node(nodes)


@dataclass(frozen=True)
class Line:
    """One meter of one resource: quantity per idle month and per session, in price units."""

    resource: str
    meter: str | None  # None: a resource with no charge at this size (listed, not hidden)
    idle: float = 0.0
    per_session: float = 0.0


@dataclass(frozen=True)
class Deployment:
    """The infra variables the bill depends on (infra/envs/<env>.tfvars)."""

    node_instance_type: str = "g4dn.xlarge"
    node_root_volume_gb: float = 24
    node_count_max: int = 1  # instances made, each stopped while idle (ADR 0032)
    ami_keep: int = 2
    redis_mode: str = "serverless"
    redis_node_type: str = "cache.t4g.micro"
    redis_node_replicas: int = 0  # node mode: 1 keeps pending jobs across a failover (ADR 0022)
    router_ec2_path: str = "dualstack"
    availability_zones: int = 2
    router_memory_mb: int = 512
    cost_publish_hours: float = 8
    scheduled_check_minutes: float = 5
    enable_cloudtrail: bool = True
    enable_config_rules: bool = True
    enable_dr_test: bool = True
    reply_topic_email: str = ""  # a mail per reply from the replies topic (ADR 0031)

    @classmethod
    def from_tfvars(cls, path: Path) -> Deployment:
        values = read_tfvars(path)
        known = {f: values[f] for f in cls.__dataclass_fields__ if f in values}
        if "availability_zones" in known:
            known["availability_zones"] = len(known["availability_zones"])
        return cls(**known)


def read_tfvars(path: Path) -> dict[str, Any]:
    """A .tfvars file as a dict (literal values only, as tfvars are)."""
    # Imported here: only `tlfif cost` reads tfvars, and lark's grammar takes a while to load.
    import hcl2
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(with_comments=False, explicit_blocks=False)
    options.strip_string_quotes = True
    try:
        with path.open(encoding="utf-8") as handle:
            return dict(hcl2.load(handle, serialization_options=options))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def tlfif_lines(d: Deployment, usage: Usage) -> list[Line]:
    """The deployed design (infra/): what each resource meters, idle and per session. With
    node_count_max = N each node has its own stopped root volume and idle-miss alarm, and a
    session starts all N (Usage.fleet_hours)."""
    nodes = d.node_count_max
    h = usage.fleet_hours(nodes)
    # Each node's metrics are billed for every hour with data (an hour begun counts).
    metric_hours = nodes * math.ceil(usage.hours_per_node(nodes))
    mem_gb = d.router_memory_mb / 1024
    warm_calls = WARM_CALLS_PER_MINUTE * usage.minutes
    router_calls = COLD_POLLS + warm_calls
    router_gb_s = (COLD_POLLS * 20 + warm_calls * 0.1) * mem_gb
    check_runs = MINUTES_PER_MONTH / d.scheduled_check_minutes
    spend_runs = HOURS_PER_MONTH  # cost_publisher runs hourly; the budget's figure is free
    explorer_requests = HOURS_PER_MONTH / d.cost_publish_hours
    replies = usage.minutes  # one prompt a minute (WARM_CALLS_PER_MINUTE), a reply each
    lines = [
        Line("GPU node (on demand)", f"ec2.{d.node_instance_type}.hour", per_session=h),
        Line("node public IPv4, only while running", "vpc.public_ipv4.hour", per_session=h),
        Line("node root volume gp3", "ebs.gp3.gb_month", idle=nodes * d.node_root_volume_gb),
        Line(
            "AMI snapshots kept for roll-back", "ebs.snapshot.gb_month", d.ami_keep * IMAGE_USED_GB
        ),
        *_redis_lines(d, h, check_runs),
        Line("Cost Explorer API (cost_publisher)", "cost_explorer.request", explorer_requests),
        Line(
            "Lambda compute (router, checks, cost)",
            "lambda.gb_second",
            idle=check_runs * 0.25 * 0.4 + spend_runs * 0.25 * 1.0,
            per_session=router_gb_s,
        ),
        Line(
            "Lambda requests",
            "lambda.request_million",
            idle=(check_runs + spend_runs) / 1e6,
            per_session=router_calls / 1e6,
        ),
        Line("API Gateway HTTP API", "apigw.http.request_million", per_session=router_calls / 1e6),
        Line(
            "CloudWatch custom metrics (EMF, GPU)",
            "cloudwatch.metric_month",
            # QueueDepth and CurrentSpendEUR; QueueHealthFailed, NodesSilent and PingOk
            # (ADR 0033): published all month
            idle=5.0,
            per_session=NODE_METRICS * metric_hours / HOURS_PER_MONTH,
        ),
        Line("CloudWatch alarms (per metric)", "cloudwatch.alarm_metric_month", idle=_alarms(d)),
        Line("CloudWatch dashboard", "cloudwatch.dashboard_month", idle=1),
        Line(
            "CloudWatch Logs ingestion",
            "cloudwatch.logs_ingest_gb",
            idle=(check_runs * 1.5 + spend_runs * 2) / 1e6,
            per_session=nodes * NODE_LOG_GB + router_calls * 2.5 / 1e6 + replies * SENDER_LOG_GB,
        ),
        Line(
            "X-Ray traces",
            "xray.trace_million",
            idle=(check_runs + spend_runs) / 1e6,
            per_session=(router_calls + replies) / 1e6,
        ),
        Line("S3 replies (PUT)", "s3.put_thousand", per_session=usage.minutes / 1000),
        Line("S3 replies (GET)", "s3.get_thousand", per_session=usage.minutes / 1000),
        *_reply_event_lines(d, replies),
        *_probe_lines(d),
        Line("VPC, gateways, S3 gateway endpoint", None),
        Line("Cognito user pool (<= 10,000 users)", None),
        Line("Budgets (no actions), alerts, EventBridge", None),
    ]
    if d.router_ec2_path == "endpoint":
        lines.append(
            Line(
                "EC2 interface endpoint (router)",
                "vpc.interface_endpoint.az_hour",
                idle=d.availability_zones * HOURS_PER_MONTH,
            )
        )
    if d.enable_cloudtrail:
        # A trail delivers a log file about every 5 minutes: one PUT each.
        lines.append(Line("CloudTrail (first trail free; S3 PUTs)", "s3.put_thousand", 8.76))
    if d.enable_config_rules:
        lines += [
            Line("AWS Config items (3 types)", "config.item", idle=10, per_session=4),
            Line("AWS Config rule evaluations", "config.rule_evaluation", 20, per_session=8),
        ]
    if d.enable_dr_test:
        lines += [
            Line("monthly DR test boot", f"ec2.{d.node_instance_type}.hour", DR_TEST_HOURS),
            Line("DR test public IPv4", "vpc.public_ipv4.hour", idle=DR_TEST_HOURS),
        ]
    return lines


def _reply_event_lines(d: Deployment, replies: float) -> list[Line]:
    """Per reply, the webhook sender and the replies topic (ADR 0031); nothing while idle:
    the function is outside the VPC (no ENI, no endpoint) and a topic has no monthly fee.
    A phone subscribed to the topic is billed per SMS and country: not priced here."""
    lines = [
        Line("webhook sender Lambda, ~1 s at 256 MB", "lambda.gb_second",
             per_session=replies * SENDER_GB_SECONDS),
        Line("webhook sender requests", "lambda.request_million", per_session=replies / 1e6),
        Line("replies topic (SNS publishes)", "sns.publish_million", per_session=replies / 1e6),
        Line("webhook records (S3 PUT at submit)", "s3.put_thousand",
             per_session=replies / 1000),
        Line("webhook records and secrets (S3 GET)", "s3.get_thousand",
             per_session=replies * (SENDER_S3_GETS + 1) / 1000),
        Line("KMS requests (secrets, replies topic)", "kms.request_ten_thousand",
             per_session=replies * WEBHOOK_KMS_REQUESTS / 10_000),
    ]  # fmt: skip
    if d.reply_topic_email:
        lines.append(Line("replies topic mails", "sns.email_thousand", per_session=replies / 1000))
    return lines


def _probe_lines(d: Deployment) -> list[Line]:
    """The uptime probe each PROBE_MINUTES (ADR 0033), idle or not: ping_check outside the
    VPC, and the queue_health and router runs its GETs cause. Its alarms are in _alarms."""
    runs = MINUTES_PER_MONTH / PROBE_MINUTES
    router_gb_s = runs * PROBE_ROUTER_SECONDS * d.router_memory_mb / 1024
    return [
        Line("ping probe Lambda + the runs it causes", "lambda.gb_second",
             idle=runs * PROBE_GB_SECONDS + router_gb_s),
        Line("ping probe requests (3 functions a run)", "lambda.request_million",
             idle=3 * runs / 1e6),
        Line("ping probe through API Gateway (/ping, /queue-health)", "apigw.http.request_million",
             idle=2 * runs / 1e6),
        Line("ping probe logs and EMF", "cloudwatch.logs_ingest_gb", idle=runs * PROBE_LOG_GB),
        Line("ping probe traces (the router's /ping)", "xray.trace_million", idle=runs / 1e6),
    ]  # fmt: skip


def _redis_lines(d: Deployment, node_hours: float, check_runs: float) -> list[Line]:
    if d.redis_mode == "node":
        meter = f"elasticache.node.valkey.{d.redis_node_type}.hour"
        lines = [Line(f"Redis node {d.redis_node_type}", meter, idle=HOURS_PER_MONTH)]
        if d.redis_node_replicas:
            replicas = d.redis_node_replicas * HOURS_PER_MONTH
            lines.append(Line(f"Redis replica {d.redis_node_type}", meter, idle=replicas))
        return lines
    ecpu_session = node_hours * 3600 * NODE_ECPU_PER_SECOND
    return [
        Line(
            "Redis: Valkey Serverless, 100 MB minimum",
            "elasticache.serverless.valkey.gb_hour",
            idle=VALKEY_MIN_GB * HOURS_PER_MONTH,
        ),
        Line(
            "Redis: Valkey Serverless, ECPU",
            "elasticache.serverless.valkey.ecpu_million",
            idle=check_runs * 20 / 1e6,
            per_session=ecpu_session / 1e6,
        ),
    ]


def _alarms(d: Deployment) -> float:
    """Alarm metrics infra/modules/observability creates: 4 short routes, the long poll,
    the idle-miss net of each node, Lambda errors (4 metrics: the router, the scheduled
    check, budget_killer, the webhook sender), Redis memory in node mode, and ADR 0033's
    six of one metric each (queue health, spend silent, API 5xx rate, router throttles,
    nodes silent, ping dead)."""
    return 4 + 1 + d.node_count_max + 4 + (1 if d.redis_mode == "node" else 0) + BROKEN_ALARMS


def seed_lines(usage: Usage) -> list[Line]:
    """The seed's own diagram (NAT, NLB, endpoints, t4g.small, canary, 15-min cost polling,
    100 GiB volume, daily snapshots, five AMIs) for the same usage, at the same prices."""
    h = usage.node_hours
    calls = COLD_POLLS + WARM_CALLS_PER_MINUTE * usage.minutes
    return [
        Line("GPU node g4dn.xlarge (on demand)", "ec2.g4dn.xlarge.hour", per_session=h),
        Line("root volume gp3 100 GiB", "ebs.gp3.gb_month", idle=100),
        Line("5 AMIs + 7 daily snapshots", "ebs.snapshot.gb_month", idle=5 * IMAGE_USED_GB + 17),
        Line("NAT gateway", "vpc.nat_gateway.hour", idle=HOURS_PER_MONTH),
        Line("NAT gateway data", "vpc.nat_gateway.gb", per_session=0.05),
        Line("NAT + NLB public IPv4", "vpc.public_ipv4.hour", idle=2 * HOURS_PER_MONTH),
        Line("NLB", "elb.nlb.hour", idle=HOURS_PER_MONTH),
        Line("NLB capacity units", "elb.nlb.lcu_hour", per_session=h),
        Line(
            "interface endpoints SSM, S3, CloudWatch",
            "vpc.interface_endpoint.az_hour",
            idle=3 * HOURS_PER_MONTH,
        ),
        Line("Redis cache.t4g.small", "elasticache.node.redis.cache.t4g.small.hour", 730.0),
        Line("Cost Explorer every 15 minutes", "cost_explorer.request", idle=4 * HOURS_PER_MONTH),
        Line("Synthetics canary every minute", "synthetics.canary_run", idle=MINUTES_PER_MONTH),
        Line(
            "Lambda (router, canary, cost)",
            "lambda.gb_second",
            idle=MINUTES_PER_MONTH * 0.5 * 2 + 4 * HOURS_PER_MONTH * 0.125,
            per_session=calls * 0.5,
        ),
        Line("Lambda requests", "lambda.request_million", 0.047, per_session=calls / 1e6),
        Line("API Gateway", "apigw.http.request_million", per_session=calls / 1e6),
        Line("custom metrics (put_metric_data)", "cloudwatch.metric_month", 1.0, 8 / 730),
        Line("put_metric_data calls", "cloudwatch.put_metric_data_thousand", 0, calls / 1000),
        Line("alarms", "cloudwatch.alarm_metric_month", idle=5),
        Line("idle-miss composite alarm", "cloudwatch.composite_alarm_month", idle=1),
        Line("dashboard", "cloudwatch.dashboard_month", idle=1),
        Line("CloudTrail S3 PUTs", "s3.put_thousand", idle=8.76),
        Line("AWS Config, all resources", "config.item", idle=300, per_session=6),
        Line("AWS Config rule evaluations", "config.rule_evaluation", idle=300, per_session=6),
        Line("monthly DR test boot", "ec2.g4dn.xlarge.hour", idle=DR_TEST_HOURS),
    ]


@dataclass(frozen=True)
class UnusedWake:
    """What one wake-ahead (POST /wake) costs when no prompt follows it: the node up for
    its boot and the wake's idle minutes, at the node's per-hour meters (ADR 0029)."""

    node_minutes: float
    eur: float


def unused_wake(d: Deployment, prices: PriceTable, idle_minutes: float) -> UnusedWake:
    """Boot + idle minutes of the GPU and of its public IPv4 (billed only while it runs).
    A figure beside the bill, not in it: how many wakes go unused is the WakesFollowed
    metric's to tell, and a wake a prompt follows costs nothing a prompt would not."""
    minutes = BOOT_MINUTES + idle_minutes
    gpu_usd = prices.usd(f"ec2.{d.node_instance_type}.hour")
    hourly_usd = gpu_usd + prices.usd("vpc.public_ipv4.hour")
    return UnusedWake(minutes, minutes / 60 * hourly_usd / prices.usd_per_eur)


@dataclass(frozen=True)
class CostedLine:
    resource: str
    meter: str | None
    idle_eur: float
    sessions_eur: float


@dataclass(frozen=True)
class Estimate:
    """EUR a month: idle floor, usage of the sessions, all-in (both, free tier applied)."""

    lines: list[CostedLine]
    idle_floor_eur: float
    all_in_eur: float
    free_tier_idle_eur: float = 0.0
    free_tier_all_in_eur: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def sessions_eur(self) -> float:
        return self.all_in_eur - self.idle_floor_eur


def estimate(lines: Iterable[Line], prices: PriceTable, usage: Usage, free_tier: bool) -> Estimate:
    eur = 1 / prices.usd_per_eur
    costed: list[CostedLine] = []
    idle_qty: dict[str, float] = {}
    all_qty: dict[str, float] = {}
    for line in lines:
        if line.meter is None:
            costed.append(CostedLine(line.resource, None, 0.0, 0.0))
            continue
        usd = prices.usd(line.meter)
        sessions = line.per_session * usage.sessions
        costed.append(
            CostedLine(line.resource, line.meter, line.idle * usd * eur, sessions * usd * eur)
        )
        idle_qty[line.meter] = idle_qty.get(line.meter, 0.0) + line.idle
        all_qty[line.meter] = all_qty.get(line.meter, 0.0) + line.idle + sessions
    idle_gross = sum(c.idle_eur for c in costed)
    all_gross = idle_gross + sum(c.sessions_eur for c in costed)
    credit_idle = _free_credit(idle_qty, prices) * eur if free_tier else 0.0
    credit_all = _free_credit(all_qty, prices) * eur if free_tier else 0.0
    return Estimate(
        costed,
        idle_floor_eur=idle_gross - credit_idle,
        all_in_eur=all_gross - credit_all,
        free_tier_idle_eur=credit_idle,
        free_tier_all_in_eur=credit_all,
    )


def _free_credit(quantities: dict[str, float], prices: PriceTable) -> float:
    """USD the always-free allowances take off these monthly quantities."""
    return sum(
        min(quantities.get(meter, 0.0), allowance) * prices.usd(meter)
        for meter, allowance in prices.free_tier.items()
    )
