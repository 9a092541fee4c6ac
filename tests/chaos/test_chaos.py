"""Never loses a prompt, under fire: the real router, two `python -m watcher` processes, real
Redis (append-only), S3 on moto behind a proxy that fails PutObjects, and 1,000 jobs while
the watchers are SIGKILLed at random moments, Redis is restarted, then frozen (SIGSTOP),
and 30 % of the reply writes fail for a while, half of them after the write landed.

moto, the proxy and the engine double run as processes of their own: in this one they
would share its GIL with the router under test and slow it to a crawl.

It prints submitted / answered once / answered twice / lost / unreadable / changed, and
fails on any but the first two.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from local.emulator import FAKE_CREDENTIALS, start_moto
from local.environment import child_env
from local.processes import ChildProcess, wait_until_answers
from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.coverage_env import without_coverage
from tests.fixtures.engine import EngineProcess
from tests.fixtures.moto_server import REGION
from tests.fixtures.redis_servers import RedisServer, free_port
from tests.fixtures.router_app import RouterHarness, router_on, router_settings
from tlfif.contracts import Reply

# Coverage off, here and in the processes it starts: a thousand jobs through the tracer
# tripled this test's time (51 -> 175 s) for lines the other suites cover, and its
# watchers, SIGKILLed, would write no data anyway.
pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300), pytest.mark.no_cover]


ROOT = Path(__file__).resolve().parents[2]
JOBS = 1000
USERS = ("bob", "carol", "dave", "erin")
SUBMIT_SECONDS = 24.0  # the load spreads over the chaos below
ANSWER_DEADLINE_SECONDS = 150.0
WATCHER_KILLS = 4


@dataclass
class Tally:
    submitted: dict[str, str] = field(default_factory=dict)  # job id -> user
    first_read: dict[str, dict[str, Any]] = field(default_factory=dict)
    submit_errors: list[str] = field(default_factory=list)


class Watchers:
    """Two watcher processes, node-a and node-b; a killed one is started again, as
    supervisord would."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for node in ("node-a", "node-b"):
            self.start(node)

    def start(self, node: str) -> None:
        with (self.logs / f"{node}.log").open("ab") as out:
            self.procs[node] = subprocess.Popen(
                [sys.executable, "-m", "watcher"],
                env={**self.env, "TLFIF_WATCHER_NODE_ID": node},
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self, node: str) -> None:
        self.procs[node].send_signal(signal.SIGKILL)
        self.procs[node].wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server as a process (the local stack's own start); boto3 here talks to it."""
    server, url = start_moto(free_port(), without_coverage(child_env()), tmp_path)
    for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": url,
                        "AWS_DEFAULT_REGION": REGION}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    yield url
    server.stop()


@pytest.fixture
def bucket(moto: str) -> str:
    name = "tl-fif-chaos"
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


class FaultProxy:
    """The S3FaultProxyDouble process, steered over its /_fault route."""

    def __init__(self, upstream: str, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "tests.doubles.s3_fault_proxy",
                "--port", str(self.port), "--upstream", upstream]  # fmt: skip
        self.child = ChildProcess("s3-fault-proxy", args, without_coverage(os.environ), log_dir)
        wait_until_answers(self.child, f"{self.url}/_fault", 15)

    def fail(self, rate: float) -> None:
        httpx.post(f"{self.url}/_fault", json={"rate": rate}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(f"{self.url}/_fault").json()
        return found


@pytest.fixture
def proxy(moto: str, tmp_path: Path) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto, tmp_path)
    yield proxy
    proxy.child.stop()


@pytest.fixture
def watchers(
    own_redis: RedisServer,
    engine_process: Callable[..., EngineProcess],
    proxy: FaultProxy,
    bucket: str,
    tmp_path: Path,
) -> Iterator[Watchers]:
    engine = engine_process()
    env = {k: v for k, v in without_coverage(os.environ).items() if not k.startswith("TLFIF_")}
    env.update(
        AWS_ENDPOINT_URL=proxy.url,  # the watchers' S3 (and SSM) calls go through the proxy
        TLFIF_REDIS_URL=own_redis.url,
        TLFIF_BUCKET=bucket,
        TLFIF_REGION=REGION,
        TLFIF_WATCHER_ENGINE_URL=engine.url,
        TLFIF_WATCHER_ENGINE_MODEL="engine-double",
        TLFIF_WATCHER_IMDS_URL=f"http://127.0.0.1:{free_port()}",
        TLFIF_WATCHER_HEARTBEAT_SECONDS="1",
        TLFIF_WATCHER_CLAIM_TIMEOUT_SECONDS="1",
        TLFIF_WATCHER_CONCURRENCY="8",
    )
    group = Watchers(env, tmp_path)
    yield group
    group.stop()


async def submit_all(router: RouterHarness, tally: Tally) -> None:
    """JOBS prompts over SUBMIT_SECONDS; a 503 is retried with the same Idempotency-Key, as
    a client retrying a lost 202 does, so a prompt is queued once."""
    gate = asyncio.Semaphore(16)

    async def one(n: int) -> None:
        user = USERS[n % len(USERS)]
        key = {"Idempotency-Key": str(uuid.uuid4())}
        await asyncio.sleep(n * SUBMIT_SECONDS / JOBS)
        async with gate:
            for _ in range(60):
                answer = await router.infer({"prompt": f"job {n} of the chaos run"}, user, key)
                if answer.status_code == 202:
                    tally.submitted[answer.json()["id"]] = user
                    return
                if answer.status_code != 503 or "retry-after" not in answer.headers:
                    tally.submit_errors.append(f"{answer.status_code} {answer.text[:120]}")
                await asyncio.sleep(0.5)
            tally.submit_errors.append(f"job {n} never accepted")

    await asyncio.gather(*(one(n) for n in range(JOBS)))


async def chaos(watchers: Watchers, redis: RedisServer, proxy: FaultProxy, log: list[str]) -> None:
    picker = random.Random(1000)
    started = time.monotonic()

    async def at(second: float) -> None:
        await asyncio.sleep(max(0.0, second - (time.monotonic() - started)))

    await at(2)
    await asyncio.to_thread(proxy.fail, 0.3)
    log.append("S3 PUTs failing 30 %")
    for second in (4, 9, 16, 21)[:WATCHER_KILLS]:
        await at(second + picker.uniform(0, 1.5))  # a random moment of each window
        if second == 9:
            await asyncio.to_thread(redis.stop)  # SIGTERM: the append-only file is synced
            await asyncio.sleep(1)
            await asyncio.to_thread(redis.start)  # same port, same folder
            log.append("Redis restarted")
        node = picker.choice(sorted(watchers.procs))
        watchers.kill(node)
        log.append(f"{node} SIGKILLed")
        await asyncio.sleep(0.3)
        watchers.start(node)
    await at(14)
    await asyncio.to_thread(proxy.fail, 0.0)
    log.append("S3 healthy again")
    await at(18)
    redis.freeze()
    log.append("Redis frozen")
    await asyncio.sleep(3)
    redis.thaw()
    log.append("Redis thawed")


async def read(router: RouterHarness, job_id: str, user: str) -> httpx.Response:
    return await router.result(job_id, sub=user)


async def wait_for_answers(router: RouterHarness, tally: Tally) -> None:
    deadline = time.monotonic() + ANSWER_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        missing = [j for j in tally.submitted if j not in tally.first_read]
        if not missing:
            return
        for job_id in missing:
            answer = await read(router, job_id, tally.submitted[job_id])
            if answer.status_code == 200:
                tally.first_read[job_id] = answer.json()
        await asyncio.sleep(1)


async def test_a_thousand_jobs_through_kills_restarts_freezes_and_failing_s3(
    own_redis: RedisServer,
    token_issuer: TokenIssuerDouble,
    watchers: Watchers,
    proxy: FaultProxy,
    bucket: str,
) -> None:
    tally, log = Tally(), list[str]()
    settings = router_settings(token_issuer, user_pending_cap=0)
    async with router_on(
        own_redis, token_issuer, settings=settings, replies=s3_store(bucket)
    ) as router:
        started = time.monotonic()
        await asyncio.gather(submit_all(router, tally), chaos(watchers, own_redis, proxy, log))
        await wait_for_answers(router, tally)
        elapsed = time.monotonic() - started
        final = {j: await read(router, j, u) for j, u in tally.submitted.items()}
    s3 = boto3.client("s3", region_name=REGION)
    stored = {}
    for job_id, user in tally.submitted.items():
        try:
            body = s3.get_object(Bucket=bucket, Key=f"replies/{sub_of(user)}/{job_id}.json")
            stored[job_id] = Reply.model_validate_json(body["Body"].read())
        except s3.exceptions.NoSuchKey:
            pass
    faults = proxy.stats()
    twice = [key for key, count in faults["accepted"].items() if count > 1]
    lost = [j for j in tally.submitted if j not in stored]
    unreadable = [j for j, answer in final.items() if answer.status_code != 200]
    changed = [
        j for j, answer in final.items()
        if answer.status_code == 200 and tally.first_read.get(j) not in (None, answer.json())
    ]  # fmt: skip
    once = len(stored) - len(twice)
    print(
        f"\nchaos: {' / '.join(log)}\n"
        f"submitted {len(tally.submitted)} / answered once {once} / answered twice {len(twice)} "
        f"/ lost {len(lost)} / unreadable {len(unreadable)} / changed {len(changed)} "
        f"in {elapsed:.0f} s (S3 faults: {faults['refused_before']} refused, "
        f"{faults['failed_after']} failed after landing)"
    )
    assert len(tally.submitted) == JOBS, tally.submit_errors[:5]
    assert not tally.submit_errors, tally.submit_errors[:5]
    assert (twice, lost, unreadable, changed) == ([], [], [], [])
    assert faults["refused_before"] and faults["failed_after"], "the S3 faults never fired"


def s3_store(bucket: str) -> Any:
    from tlfif.aws.s3 import S3ReplyStore

    return S3ReplyStore(bucket, REGION)
