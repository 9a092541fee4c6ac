"""queue_health Lambda: API Gateway v2 proxy responses from a real redis-server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from queue_health import handler as queue_health
from tests.doubles.lambda_context import LambdaContextDouble
from tests.fixtures.lambdas import fresh
from tests.fixtures.redis_servers import PASSWORD, RedisServer, free_port

EVENT = {"version": "2.0", "routeKey": "GET /queue-health", "rawPath": "/queue-health"}


@pytest.fixture
def probe(lambda_env: pytest.MonkeyPatch) -> Iterator[object]:
    yield from fresh(queue_health)


def client_ids(server: RedisServer) -> set[str]:
    with redis.Redis(port=server.port, password=PASSWORD, decode_responses=True) as admin:
        me = admin.client_id()
        return {str(c["id"]) for c in admin.client_list() if str(c["id"]) != str(me)}


def test_ok_and_the_connection_is_kept_across_warm_invocations(
    probe: object, redis_server: RedisServer, lambda_env: pytest.MonkeyPatch
) -> None:
    lambda_env.setenv("TLFIF_REDIS_URL", redis_server.url)
    first = queue_health.handler(EVENT, LambdaContextDouble())
    assert first["statusCode"] == 200
    assert first["headers"]["Content-Type"] == "application/json"
    body = json.loads(first["body"])
    assert body["redis"] == "ok" and 0 <= body["latencyMs"] < 200
    assert set(body) == {"redis", "latencyMs"}
    connections = client_ids(redis_server)
    assert len(connections) == 1
    for _ in range(3):
        assert queue_health.handler(EVENT, LambdaContextDouble())["statusCode"] == 200
    assert client_ids(redis_server) == connections


def test_connection_error_is_a_503_that_says_ping_failed(
    probe: object, lambda_env: pytest.MonkeyPatch
) -> None:
    lambda_env.setenv("TLFIF_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = queue_health.handler(EVENT, LambdaContextDouble())
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "5"
    body = json.loads(response["body"])
    assert body["redis"] == "error"
    assert body["reason"] == "PING failed"  # no host or port: the probe takes no token


def test_a_ping_over_200_ms_is_a_503(
    probe: object, redis_server: RedisServer, lambda_env: pytest.MonkeyPatch
) -> None:
    lambda_env.setenv("TLFIF_REDIS_URL", redis_server.url)
    assert queue_health.handler(EVENT, LambdaContextDouble())["statusCode"] == 200
    with redis.Redis(port=redis_server.port, password=PASSWORD) as admin:
        # The server holds every client's commands for 300 ms: a PING takes that long.
        admin.execute_command("CLIENT", "PAUSE", "300", "ALL")
    response = queue_health.handler(EVENT, LambdaContextDouble())
    assert response["statusCode"] == 503
    body = json.loads(response["body"])
    assert body["redis"] == "slow"
    assert body["latencyMs"] > 200 and "(max 200)" in body["reason"]


def test_an_unknown_setting_fails_naming_it(probe: object, lambda_env: pytest.MonkeyPatch) -> None:
    from tlfif.errors import ConfigError

    lambda_env.setenv("TLFIF_HEALTH_MAX_MSS", "5")
    with pytest.raises(ConfigError, match="TLFIF_HEALTH_MAX_MSS"):
        queue_health.handler(EVENT, LambdaContextDouble())
