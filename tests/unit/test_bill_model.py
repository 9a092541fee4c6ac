"""tlfif_cli/bill_model.py: meters, the free-tier line, the tfvars it reads, the goals."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tlfif.errors import ConfigError
from tlfif_cli.bill_model import (
    HOURS_PER_MONTH,
    PRICES_PATH,
    Deployment,
    Line,
    PriceTable,
    Usage,
    estimate,
    seed_lines,
    tlfif_lines,
    unused_wake,
)

ENVS = Path(__file__).resolve().parents[2] / "infra" / "envs"


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load()


def test_price_table_is_dated_and_every_price_names_its_source() -> None:
    raw = json.loads(PRICES_PATH.read_text())
    assert raw["region"] == "eu-central-1" and raw["as_of"]
    for name, entry in raw["prices"].items():
        assert entry["usd"] >= 0, name
        assert entry["source"].startswith("https://"), name
    assert raw["prices"]["ec2.g4dn.xlarge.hour"]["usd"] == pytest.approx(0.658)


def test_every_meter_of_both_designs_has_a_price(prices: PriceTable) -> None:
    for line in [*tlfif_lines(Deployment(), Usage()), *seed_lines(Usage())]:
        if line.meter:
            prices.usd(line.meter)


def test_unknown_meter_names_itself(prices: PriceTable) -> None:
    with pytest.raises(ConfigError, match=r"ec2\.p5\.48xlarge\.hour"):
        estimate([Line("x", "ec2.p5.48xlarge.hour", 1)], prices, Usage(), free_tier=False)


def test_a_session_keeps_the_node_up_for_boot_work_and_idle() -> None:
    assert Usage(minutes=5, idle_minutes=5).node_hours * 60 == pytest.approx(12.0)


def test_gpu_cost_scales_with_sessions_and_is_zero_idle(prices: PriceTable) -> None:
    lines = [Line("gpu", "ec2.g4dn.xlarge.hour", per_session=1.0)]
    result = estimate(lines, prices, Usage(sessions=30), free_tier=False)
    assert result.idle_floor_eur == 0
    assert result.sessions_eur == pytest.approx(30 * 0.658 / prices.usd_per_eur)


def test_free_tier_is_its_own_credit_and_never_exceeds_the_allowance(prices: PriceTable) -> None:
    lines = [Line("alarms", "cloudwatch.alarm_metric_month", idle=12)]
    listed = estimate(lines, prices, Usage(), free_tier=False)
    free = estimate(lines, prices, Usage(), free_tier=True)
    assert listed.idle_floor_eur == pytest.approx(1.2 / prices.usd_per_eur)
    assert free.free_tier_idle_eur == pytest.approx(1.0 / prices.usd_per_eur)
    assert free.idle_floor_eur == pytest.approx(0.2 / prices.usd_per_eur)


def test_endpoint_path_adds_an_interface_endpoint_per_az(prices: PriceTable) -> None:
    dual = estimate(tlfif_lines(Deployment(), Usage()), prices, Usage(), free_tier=True)
    endpoint = Deployment(router_ec2_path="endpoint", availability_zones=2)
    ep = estimate(tlfif_lines(endpoint, Usage()), prices, Usage(), free_tier=True)
    expected = 2 * HOURS_PER_MONTH * 0.012 / prices.usd_per_eur
    assert ep.idle_floor_eur - dual.idle_floor_eur == pytest.approx(expected)


def test_node_mode_redis_costs_a_node_all_month(prices: PriceTable) -> None:
    lines = tlfif_lines(Deployment(redis_mode="node", redis_node_type="cache.t4g.micro"), Usage())
    redis = [line for line in lines if line.resource.startswith("Redis")]
    assert [line.idle for line in redis] == [HOURS_PER_MONTH]


def test_a_node_mode_replica_costs_a_second_node_all_month(prices: PriceTable) -> None:
    one, two = (Deployment(redis_mode="node", redis_node_replicas=replicas) for replicas in (0, 1))
    alone, paired = (
        estimate(tlfif_lines(d, Usage()), prices, Usage(), free_tier=False) for d in (one, two)
    )
    node = prices.usd("elasticache.node.valkey.cache.t4g.micro.hour") / prices.usd_per_eur
    assert paired.idle_floor_eur - alone.idle_floor_eur == pytest.approx(HOURS_PER_MONTH * node)


def test_cost_explorer_requests_follow_the_tfvars_interval() -> None:
    lines = tlfif_lines(Deployment(cost_publish_hours=8), Usage())
    (ce,) = [line for line in lines if line.meter == "cost_explorer.request"]
    assert ce.idle == pytest.approx(HOURS_PER_MONTH / 8)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_tfvars_are_read(env: str) -> None:
    d = Deployment.from_tfvars(ENVS / f"{env}.tfvars")
    assert d.node_instance_type == "g4dn.xlarge"
    assert d.availability_zones == 2
    assert d.redis_mode == "serverless"


def test_missing_tfvars_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Deployment.from_tfvars(tmp_path / "nope.tfvars")


def test_prod_meets_the_goals_and_the_seed_design_does_not(prices: PriceTable) -> None:
    usage = Usage(sessions=30, minutes=5)
    d = Deployment.from_tfvars(ENVS / "prod.tfvars")
    ours = estimate(tlfif_lines(d, usage), prices, usage, free_tier=True)
    seed = estimate(seed_lines(usage), prices, usage, free_tier=True)
    assert ours.idle_floor_eur <= 12
    assert ours.all_in_eur <= 16
    assert seed.idle_floor_eur > 100, "NAT, NLB, endpoints, canary and 15-min Cost Explorer"
    assert ours.sessions_eur == pytest.approx(ours.all_in_eur - ours.idle_floor_eur)


def test_list_prices_are_higher_than_with_the_free_tier(prices: PriceTable) -> None:
    d = Deployment.from_tfvars(ENVS / "prod.tfvars")
    listed = estimate(tlfif_lines(d, Usage()), prices, Usage(), free_tier=False)
    free = estimate(tlfif_lines(d, Usage()), prices, Usage(), free_tier=True)
    assert listed.free_tier_idle_eur == 0
    assert listed.idle_floor_eur - free.idle_floor_eur == pytest.approx(free.free_tier_idle_eur)


def test_an_unused_wake_costs_boot_and_idle_minutes_of_the_node(prices: PriceTable) -> None:
    wake = unused_wake(Deployment(), prices, idle_minutes=5)
    assert wake.node_minutes == 7  # the 2 min boot + 5 idle
    # g4dn.xlarge at USD 0.658 and its public IPv4 at 0.005 an hour, USD 1.10 = EUR 1.
    assert wake.eur == pytest.approx(7 / 60 * 0.663 / 1.1)
    assert round(wake.eur, 2) == 0.07
    assert unused_wake(Deployment(), prices, idle_minutes=30).eur > wake.eur


def test_the_webhook_sender_and_the_replies_topic_cost_nothing_while_idle(
    prices: PriceTable,
) -> None:
    """ADR 0031: no ENI, no endpoint, no monthly fee; each reply a run, a publish, S3 reads
    and KMS requests, so the prod month moves by less than a cent."""
    usage = Usage(sessions=30, minutes=5)
    d = Deployment.from_tfvars(ENVS / "prod.tfvars")
    lines = tlfif_lines(d, usage)
    ours = [
        line for line in lines if "webhook" in line.resource or "replies topic" in line.resource
    ]
    assert {line.meter for line in ours} >= {
        "lambda.gb_second", "sns.publish_million", "s3.get_thousand", "kms.request_ten_thousand"
    }  # fmt: skip
    assert all(line.idle == 0 for line in ours)
    (run,) = [line for line in ours if line.meter == "lambda.gb_second"]
    assert run.per_session == pytest.approx(5 * 1.0 * 0.25)  # a reply a minute, 1 s at 256 MB
    month = estimate(lines, prices, usage, free_tier=True)
    assert round(month.idle_floor_eur, 2) == 11.56  # 10.92 before ADR 0033's alarms and probe
    assert abs(month.all_in_eur - 15.72) <= 0.05


def test_a_mail_per_reply_only_when_the_topic_has_an_address() -> None:
    def mails(d: Deployment) -> list[Line]:
        return [line for line in tlfif_lines(d, Usage()) if line.meter == "sns.email_thousand"]

    assert mails(Deployment.from_tfvars(ENVS / "prod.tfvars")) == []
    (mail,) = mails(Deployment(reply_topic_email="owner@example.com"))
    assert mail.per_session == pytest.approx(5 / 1000)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_both_envs_make_one_node(env: str) -> None:
    assert Deployment.from_tfvars(ENVS / f"{env}.tfvars").node_count_max == 1


def test_each_node_beyond_the_first_adds_its_stopped_root_volume_and_alarm(
    prices: PriceTable,
) -> None:
    """ADR 0032: the idle floor of N nodes is N root volumes and N idle-miss alarms; the
    account's ten free alarms are used up already, so each further alarm is billed."""
    usage = Usage()
    one, two = (
        estimate(tlfif_lines(Deployment(node_count_max=n), usage), prices, usage, True)
        for n in (1, 2)
    )
    volume = 24 * prices.usd("ebs.gp3.gb_month")
    alarm = prices.usd("cloudwatch.alarm_metric_month")
    extra = (volume + alarm) / prices.usd_per_eur
    assert two.idle_floor_eur - one.idle_floor_eur == pytest.approx(extra)
    assert round(extra, 2) == 2.17


def test_n_nodes_run_the_same_work_plus_a_boot_and_idle_tail_each() -> None:
    usage = Usage(minutes=5, idle_minutes=5)
    assert usage.fleet_hours(1) == usage.node_hours
    # Two nodes share the 5 work minutes; each boots (2 min) and idles out (5 min).
    assert usage.fleet_hours(2) * 60 == pytest.approx(5 + 2 * (2 + 5))
    (gpu,) = [
        line
        for line in tlfif_lines(Deployment(node_count_max=2), usage)
        if line.resource == "GPU node (on demand)"
    ]
    assert gpu.per_session == pytest.approx(usage.fleet_hours(2))


def test_two_nodes_cost_what_the_adr_says(prices: PriceTable) -> None:
    """The ADR's figures: one node as deployed, two with every session a burst of both."""
    usage = Usage(sessions=30, minutes=5)
    d = Deployment.from_tfvars(ENVS / "prod.tfvars")
    one, two = (
        estimate(tlfif_lines(replace(d, node_count_max=n), usage), prices, usage, True)
        for n in (1, 2)
    )
    # ADR 0032's figures (10.92, 15.08; 13.09, 19.36) plus ADR 0033's EUR 0.64 a month.
    assert (round(one.idle_floor_eur, 2), round(one.all_in_eur, 2)) == (11.56, 15.72)
    assert (round(two.idle_floor_eur, 2), round(two.all_in_eur, 2)) == (13.73, 20.00)


def test_the_alarms_and_the_probe_add_what_adr_0033_says(prices: PriceTable) -> None:
    """Six alarm metrics beyond the free ten, the probe's gateway requests; the rest of the
    probe (Lambda, logs, traces, its three metrics) inside the always-free allowances."""
    from tlfif_cli.bill_model import BROKEN_ALARMS, PROBE_MINUTES, _alarms, _probe_lines

    d = Deployment.from_tfvars(ENVS / "prod.tfvars")
    assert BROKEN_ALARMS == 6 and _alarms(d) == 16
    usage = Usage(sessions=30, minutes=5)
    probe = {line.meter: line.idle for line in _probe_lines(d)}
    runs = 730 * 60 / PROBE_MINUTES
    assert probe["apigw.http.request_million"] == pytest.approx(2 * runs / 1e6)
    assert probe["lambda.request_million"] == pytest.approx(3 * runs / 1e6)
    without = [line for line in tlfif_lines(d, usage) if not line.resource.startswith("ping")]
    month = estimate(tlfif_lines(d, usage), prices, usage, free_tier=True)
    before = estimate(without, prices, usage, free_tier=True)
    added = month.idle_floor_eur - before.idle_floor_eur
    assert added == pytest.approx(0.105 / prices.usd_per_eur, abs=0.005)  # the gateway only
