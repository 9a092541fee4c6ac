"""`tlfif smoke`: the record's limits (smoke_record.py), which streams count as live and
how phases are timed (smoke_steps.py), and the command in-process against RouterApiDouble
with an API key (TLFIF_CLI_API_KEY): the key under /api-key, the probes without it."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.doubles.router_api_double import RouterApiDouble, error_response
from tlfif.client.config import StackConfig, save_profile
from tlfif.client.events import JobEvent, PhaseEvent, ReplyEvent, StreamError, TokenEvent
from tlfif.contracts import NodePhase, Reply
from tlfif_cli import main
from tlfif_cli.errors import ExitCode
from tlfif_cli.smoke_record import Limits, Phases, SmokeRecord, StopTimes, judge
from tlfif_cli.smoke_steps import PhaseClock, SmokeSteps, is_live

KEY = "tlfif-sk-" + "A" * 43
REPLY = Reply(id="job-1", status="done", text="Paris", finish_reason="stop")


def record(**fields: Any) -> SmokeRecord:
    return SmokeRecord(
        version="test",
        profile="local",
        started_at="2026-12-02T04:00:00Z",
        limits=Limits(first_token=90, stop=10),
        **fields,
    )


# the limits


def test_a_first_token_within_its_limit_and_a_quick_stop_are_ok() -> None:
    judged = judge(
        record(
            phases=Phases(accepted=0.02, first_token=40.0, reply=41.0),
            reply={"status": "done", "completion_tokens": 5},
            stop=StopTimes(accepted=0.3, stopping=0.3),
        )
    )
    assert judged.ok and judged.failures == []
    assert judged.limits.first_token_measured_on == "first_token"


def test_without_a_first_token_the_limit_applies_to_the_reply_and_says_so() -> None:
    judged = judge(record(phases=Phases(first_token=None, reply=95.5), reply={"status": "done"}))
    assert judged.limits.first_token_measured_on == "reply"
    assert not judged.ok
    assert judged.failures == ["first-token limit passed: reply after 95.500 s, the limit is 90 s"]


def test_a_slow_stop_fails_each_limit_it_passes_and_earlier_failures_stay() -> None:
    judged = judge(
        record(
            phases=Phases(first_token=1.0, reply=2.0),
            reply={"status": "done"},
            stop=StopTimes(accepted=2.0, stopping=12.5),
            failures=["ping: cannot reach"],
        )
    )
    assert judged.failures == [
        "ping: cannot reach",
        "stop limit passed: stop stopping after 12.500 s, the limit is 10 s",
    ]


def test_no_reply_is_not_judged_against_the_first_token_limit() -> None:
    judged = judge(record(failures=["prompt: throttled"]))
    assert judged.limits.first_token_measured_on is None and not judged.ok


# live or buffered


def test_a_stream_whose_events_come_in_one_burst_is_buffered() -> None:
    assert is_live(0.0, [0.01, 0.3, 0.6])  # phase at once, then the generation
    assert not is_live(0.0, [2.0, 2.0001, 2.0002])  # a fast job behind API Gateway
    assert not is_live(0.0, [25.0, 25.0])  # held for the gateway's wait
    assert is_live(0.0, [0.01])  # one event, at once
    assert not is_live(0.0, [])


def test_the_phase_clock_keeps_the_first_time_of_each_phase() -> None:
    clock = PhaseClock(submitted=100.0)
    clock.node(100.5, "starting")
    clock.node(101.0, "booting")
    clock.node(102.0, "loading")
    clock.node(103.0, "ready")
    clock.node(104.0, "booting")
    clock.token(105.0)
    clock.token(106.0)
    assert clock.phases.model_dump() == {
        "accepted": None,
        "node_running": 1.0,
        "engine_ready": 3.0,
        "first_token": 5.0,
        "reply": None,
    }


class EventsApiDouble:
    """ApiClient's job_events and result, each event arriving at a scripted time."""

    def __init__(self, clock: list[float], streams: list[list[tuple[float, JobEvent]]]) -> None:
        self.clock = clock
        self.streams = streams
        self.polls = 0

    def job_events(self, job_id: str) -> Iterator[JobEvent]:
        for at, event in self.streams.pop(0):
            self.clock[0] = at
            yield event

    def result(self, job_id: str, *, wait: int = 0) -> Reply:
        self.polls += 1
        self.clock[0] += 1
        return REPLY


def follow(streams: list[list[tuple[float, JobEvent]]]) -> tuple[PhaseClock, EventsApiDouble]:
    now = [0.0]
    api = EventsApiDouble(now, streams)
    steps = SmokeSteps(
        api,  # type: ignore[arg-type]  # the two methods _follow calls
        record(),
        min_interval_seconds=0,
        wait_timeout_seconds=600,
        clock=lambda: now[0],
        sleep=lambda _: None,
    )
    clock = PhaseClock(submitted=0.0)
    assert steps._follow("job-1", clock) == REPLY
    return clock, api


def test_a_live_stream_times_each_phase_and_the_first_token() -> None:
    clock, api = follow(
        [
            [(0.01, PhaseEvent("starting")), (25.0, StreamError("reply_pending", "again"))],
            [(25.01, PhaseEvent("booting")), (50.0, StreamError("reply_pending", "again"))],
            [
                (50.01, PhaseEvent("ready")),
                (52.0, TokenEvent("a", "Pa")),
                (53.0, ReplyEvent(REPLY)),
            ],
        ]
    )
    assert (clock.phases.node_running, clock.phases.engine_ready) == (25.01, 50.01)
    assert clock.phases.first_token == 52.0
    assert api.polls == 0


def test_a_buffered_stream_gives_its_reply_but_no_first_token() -> None:
    burst: list[tuple[float, JobEvent]] = [
        (2.0, PhaseEvent("ready")),
        (2.0, TokenEvent("a", "Paris")),
        (2.0, ReplyEvent(REPLY)),
    ]
    clock, _ = follow([burst])
    assert clock.phases.first_token is None and clock.phases.engine_ready is None


def test_after_a_held_back_stream_the_phases_come_from_polls() -> None:
    held: list[tuple[float, JobEvent]] = [
        (25.0, PhaseEvent("booting")),
        (25.0, StreamError("reply_pending", "again")),
    ]
    clock, api = follow([held])
    assert api.polls == 1 and clock.phases.node_running is None


# the command, with an API key


@pytest.fixture
def key_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("TLFIF_CLI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("TLFIF_CLI_MIN_POLL_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("TLFIF_CLI_API_KEY", KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    # No Cognito anywhere: a key needs none.
    save_profile(StackConfig(api_url="http://router.test", user_pool_id="p", client_id="c"))


class KeyRouteDouble:
    """RouterApiDouble behind the /api-key prefix, plus the two open probes."""

    def __init__(self, router: RouterApiDouble, redis: str = "ok") -> None:
        self.router = router
        self.redis = redis
        self.probes: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path in ("/ping", "/queue-health"):
            self.probes.append(request)
            if path == "/ping":
                return httpx.Response(200, json={"status": "ok"})
            health = {"redis": self.redis, "latencyMs": 1.5}
            return httpx.Response(200 if self.redis == "ok" else 503, json=health)
        if not path.startswith("/api-key/"):
            return error_response(401, "unauthorized", "a key goes under /api-key")
        inner = request.url.copy_with(path=path.removeprefix("/api-key"))
        forwarded = httpx.Request(
            request.method, inner, headers=request.headers, content=request.content
        )
        if inner.path.endswith("/events"):
            return error_response(404, "not_found", "no events here")  # polling, then
        return self.router.handle(forwarded)


def smoke(
    capsys: pytest.CaptureFixture[str], router: RouterApiDouble, *argv: str, redis: str = "ok"
) -> tuple[int, str, str, KeyRouteDouble]:
    double = KeyRouteDouble(router, redis)
    code = main(["smoke", *argv], transport=httpx.MockTransport(double.handle))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err, double


def test_smoke_with_a_key_records_a_cold_prompt_and_a_stop(
    key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    router = RouterApiDouble()
    code, out, err, double = smoke(capsys, router, "--json")

    assert code == ExitCode.OK, err
    found = json.loads(out)
    assert found["ok"] is True and found["failures"] == [] and found["cold"] is True
    assert found["queue_health"]["ok"] is True and found["ping_ms"] is not None
    assert found["reply"] == {"status": "done", "completion_tokens": 12}
    phases = found["phases"]
    assert phases["first_token"] is None  # no live stream here
    assert found["limits"]["first_token_measured_on"] == "reply"
    assert phases["accepted"] <= phases["node_running"] <= phases["engine_ready"]
    assert phases["engine_ready"] <= phases["reply"]
    assert found["stop"]["stopping"] is not None
    assert "Paris" not in out and "reply from the router double" not in out
    assert router.bearer_tokens("") == [KEY] * len(router.requests)
    assert all("Authorization" not in probe.headers for probe in double.probes)


def test_smoke_past_a_limit_prints_the_record_and_exits_smoke_failed(
    key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err, _ = smoke(capsys, RouterApiDouble(), "--first-token-limit", "0", "--no-stop")
    assert code == ExitCode.SMOKE_FAILED
    assert "FAILED first-token limit passed" in out and "not ok" in out


def test_a_refused_stop_is_a_failure_in_the_record_not_a_crash(
    key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    router = RouterApiDouble(
        canned={"POST /stop": error_response(403, "forbidden", "an API key may not stop the node")}
    )
    code, out, err, _ = smoke(capsys, router, "--json")
    assert code == ExitCode.SMOKE_FAILED
    found = json.loads(out)
    assert found["reply"]["status"] == "done"
    assert found["failures"] == ["stop: not allowed: an API key may not stop the node"]
    assert err == "tlfif: smoke: stop: not allowed: an API key may not stop the node\n"


def test_a_refused_key_is_one_line_naming_the_variable(
    key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err, _ = smoke(capsys, RouterApiDouble(refused_tokens={KEY}), "--json")
    assert code == ExitCode.SMOKE_FAILED
    failures = json.loads(out)["failures"]
    assert len(failures) == 2 and all("TLFIF_CLI_API_KEY" in f for f in failures)

    status = main(["status"], transport=httpx.MockTransport(KeyRouteDouble(
        RouterApiDouble(refused_tokens={KEY})).handle))  # fmt: skip
    said = capsys.readouterr().err
    assert status == ExitCode.AUTH and said.count("\n") == 1
    assert "TLFIF_CLI_API_KEY" in said and KEY not in said


def test_a_malformed_key_and_login_with_a_key_are_one_line_each(
    key_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["login"]) == ExitCode.UNREACHABLE
    said = capsys.readouterr().err
    assert "TLFIF_CLI_API_KEY is set" in said and said.count("\n") == 1

    monkeypatch.setenv("TLFIF_CLI_API_KEY", "sk-not-ours")
    assert main(["status"], transport=httpx.MockTransport(lambda r: httpx.Response(500))) == 4
    said = capsys.readouterr().err
    assert "TLFIF_CLI_API_KEY is not an API key" in said and "sk-not-ours" not in said


def test_an_unhealthy_queue_ends_the_smoke_before_any_prompt(
    key_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    router = RouterApiDouble()
    code, out, _err, _ = smoke(capsys, router, "--json", redis="error")
    assert code == ExitCode.SMOKE_FAILED
    found = json.loads(out)
    assert found["queue_health"]["ok"] is False
    assert found["failures"] == ["ping and queue-health: failed: queue-health says redis error"]
    assert router.requests == []  # nothing queued, nothing stopped


def test_stop_first_waits_for_the_node_stopped_and_the_prompt_is_cold(
    key_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    router = RouterApiDouble(node="ready")
    stopped_after: Iterator[NodePhase] = iter(["stopping", "stopping", "stopped"])

    def status() -> dict[str, Any]:
        router.node = next(stopped_after, router.node)
        return original()

    original = router._status
    monkeypatch.setattr(router, "_status", status)
    monkeypatch.setattr("tlfif_cli.smoke_steps.STATUS_INTERVAL_SECONDS", 0.0)
    code, out, err, _ = smoke(capsys, router, "--stop-first", "--json")
    assert code == ExitCode.OK, err
    assert json.loads(out)["cold"] is True
    assert len(router.sent("POST /stop")) == 2 and len(router.sent("GET /status")) >= 3
