"""tlfif/probe.py against a real HTTP server on loopback: 200 is up; a 503, a hang past the
timeout and a refused connection are down, each said in a few words with no host in them;
check_uptime publishes PingOk 1 or 0 and calls /queue-health too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.doubles.cloud import MetricsDouble
from tests.fixtures.asgi_server import serve_asgi
from tests.fixtures.redis_servers import free_port
from tlfif.probe import PING_OK_METRIC, USER_AGENT, check_uptime, probe
from tlfif.settings import PingSettings

SEEN: list[tuple[str, str]] = []


async def ping(request: Request) -> Response:
    SEEN.append((request.url.path, request.headers.get("user-agent", "")))
    return PlainTextResponse("pong")


async def queue_health(request: Request) -> Response:
    SEEN.append((request.url.path, request.headers.get("user-agent", "")))
    return JSONResponse({"redis": "error", "reason": "PING failed"}, status_code=503)


async def slow(request: Request) -> Response:
    await asyncio.sleep(1.0)
    return PlainTextResponse("late")


APP = Starlette(
    routes=[
        Route("/ping", ping),
        Route("/queue-health", queue_health),
        Route("/slow", slow),
    ]
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_asgi(APP, "probe-target") as url:
        yield url


def test_a_200_is_up(server: str) -> None:
    result = probe(f"{server}/ping", timeout_seconds=2)
    assert (result.ok, result.status, result.reason) == (True, 200, "")
    assert 0 < result.latency_ms < 2000


def test_a_503_is_down_with_its_status(server: str) -> None:
    result = probe(f"{server}/queue-health", timeout_seconds=2)
    assert (result.ok, result.status, result.reason) == (False, 503, "HTTP 503")


def test_an_unknown_path_is_down(server: str) -> None:
    assert probe(f"{server}/nowhere", timeout_seconds=2).reason == "HTTP 404"


def test_no_answer_within_the_timeout_is_down(server: str) -> None:
    result = probe(f"{server}/slow", timeout_seconds=0.2)
    assert (result.ok, result.status) == (False, None)
    assert result.reason == "no answer within 0.2 s"
    assert result.latency_ms < 900


def test_a_refused_connection_is_down_and_names_no_host() -> None:
    result = probe(f"http://127.0.0.1:{free_port()}/ping", timeout_seconds=1)
    assert (result.ok, result.status, result.reason) == (False, None, "connection failed")


def test_check_uptime_publishes_ping_ok_and_calls_queue_health(server: str) -> None:
    SEEN.clear()
    metrics = MetricsDouble()
    settings = PingSettings(url=f"{server}/ping", queue_health_url=f"{server}/queue-health")
    report = check_uptime(settings, metrics)
    assert report.ping.ok and report.queue_health is not None
    assert report.queue_health.status == 503  # its own alarm's business, not PingOk's
    assert metrics.values(PING_OK_METRIC) == [1.0]
    assert SEEN == [("/ping", USER_AGENT), ("/queue-health", USER_AGENT)]

    down = PingSettings(url=f"http://127.0.0.1:{free_port()}/ping", timeout_seconds=0.5)
    assert check_uptime(down, metrics).queue_health is None
    assert metrics.values(PING_OK_METRIC) == [1.0, 0.0]


def test_settings_want_an_http_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from tlfif.errors import ConfigError

    monkeypatch.setenv("TLFIF_PING_URL", "ftp://example.com/ping")
    with pytest.raises(ConfigError, match="TLFIF_PING_URL"):
        PingSettings.load()
    monkeypatch.setenv("TLFIF_PING_URL", "https://example.com/ping")
    monkeypatch.setenv("TLFIF_PING_TIMEOUT", "3")
    with pytest.raises(ConfigError, match="TLFIF_PING_TIMEOUT"):
        PingSettings.load()
