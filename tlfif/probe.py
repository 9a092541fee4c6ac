"""The uptime probe (ADR 0033): GET a public URL once, with a short timeout, and say
whether it answered 200. The ping_check Lambda runs it on a schedule against /ping.

urllib, not httpx: the probe's Lambda ships no HTTP library, and one GET needs none.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from tlfif.ports import Metrics
from tlfif.settings import PingSettings

PING_OK_METRIC = "PingOk"
USER_AGENT = "tlfif-ping-check"
# Read at most this much of a body: /ping answers a few bytes, and a wrong URL must not
# make the probe download a page.
MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class ProbeResult:
    url: str
    ok: bool  # 200 within the timeout
    status: int | None  # None: no HTTP answer at all
    latency_ms: float
    reason: str = ""  # why not ok, in a few words (no exception text: it may name hosts)


def probe(url: str, timeout_seconds: float) -> ProbeResult:
    """One GET of `url`; never raises for a network failure, which is a result."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT}, method="GET")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            response.read(MAX_BODY_BYTES)
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return ProbeResult(url, False, exc.code, _elapsed_ms(started), f"HTTP {exc.code}")
    except TimeoutError:
        reason = f"no answer within {timeout_seconds:g} s"
        return ProbeResult(url, False, None, _elapsed_ms(started), reason)
    except urllib.error.URLError as exc:
        timed_out = isinstance(exc.reason, TimeoutError | socket.timeout)
        reason = f"no answer within {timeout_seconds:g} s" if timed_out else "connection failed"
        return ProbeResult(url, False, None, _elapsed_ms(started), reason)
    except OSError:
        return ProbeResult(url, False, None, _elapsed_ms(started), "connection failed")
    ok = status == 200
    return ProbeResult(url, ok, status, _elapsed_ms(started), "" if ok else f"HTTP {status}")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@dataclass(frozen=True)
class UptimeReport:
    ping: ProbeResult
    queue_health: ProbeResult | None  # None: not asked (no TLFIF_PING_QUEUE_HEALTH_URL)


def check_uptime(settings: PingSettings, metrics: Metrics) -> UptimeReport:
    """One run of the ping check: GET /ping, publish PingOk 1 or 0, then GET /queue-health.

    The queue_health Lambda publishes its own QueueHealthFailed for each check it makes;
    calling it here only makes it check every run. Its 503 is that alarm's business, so it
    does not change PingOk: a dead /ping and a failing queue have runbooks of their own.
    """
    ping = probe(settings.url, settings.timeout_seconds)
    metrics.count(PING_OK_METRIC, 1.0 if ping.ok else 0.0)
    health = None
    if settings.queue_health_url:
        health = probe(settings.queue_health_url, settings.timeout_seconds)
    return UptimeReport(ping, health)
