"""queue_health publishes QueueHealthFailed for every check it makes (ADR 0033): 0 when
Redis answers, 1 when it does not, as EMF on stdout (tests/fixtures/emf.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from queue_health import handler as queue_health
from tests.doubles.lambda_context import LambdaContextDouble
from tests.fixtures.emf import emf_records, metric_values
from tests.fixtures.lambdas import fresh
from tests.fixtures.redis_servers import RedisServer, free_port

EVENT = {"version": "2.0", "routeKey": "GET /queue-health", "rawPath": "/queue-health"}


@pytest.fixture
def probe(lambda_env: pytest.MonkeyPatch) -> Iterator[object]:
    yield from fresh(queue_health)


def test_an_answered_check_publishes_0(
    probe: object,
    redis_server: RedisServer,
    lambda_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lambda_env.setenv("TLFIF_REDIS_URL", redis_server.url)
    for _ in range(2):
        assert queue_health.handler(EVENT, LambdaContextDouble())["statusCode"] == 200
    out = capsys.readouterr().out
    assert metric_values(out, queue_health.FAILED_METRIC) == [0.0, 0.0]
    (record, *_) = [r for r in emf_records(out) if queue_health.FAILED_METRIC in r]
    assert record["service"] == "queue_health"  # the alarm's dimension


def test_a_failed_check_publishes_1(
    probe: object, lambda_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_env.setenv("TLFIF_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert queue_health.handler(EVENT, LambdaContextDouble())["statusCode"] == 503
    assert metric_values(capsys.readouterr().out, queue_health.FAILED_METRIC) == [1.0]
