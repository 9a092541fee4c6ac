"""Two router processes (uvicorn, as `make up` runs it) on one Redis enforce one rate limit.

Each is `uvicorn --factory router.asgi:create_app_from_env` with the real adapters against
moto (Cognito's JWKS, EC2, S3). The limit is per minute only, so the test does not depend
on how fast this machine sends the requests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.moto_server import BUCKET, REGION, CognitoPool
from tests.fixtures.redis_servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PER_MINUTE = 6


def router_env(redis: RedisServer, pool: CognitoPool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TLFIF_")}
    return env | {
        "TLFIF_REDIS_URL": redis.url,
        "TLFIF_BUCKET": BUCKET,
        "TLFIF_REGION": REGION,
        "TLFIF_ROUTER_COGNITO_ISSUER": pool.issuer,
        "TLFIF_ROUTER_JWKS_URL": pool.jwks_url,
        "TLFIF_ROUTER_CLIENT_IDS": pool.client_id,
        "TLFIF_ROUTER_THROTTLE_WRITE_PER_SECOND": "0",
        "TLFIF_ROUTER_THROTTLE_WRITE_PER_MINUTE": str(PER_MINUTE),
    }


def start_router(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "router.asgi:create_app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"router exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"router at {url} did not come up")


@pytest.fixture
def two_routers(
    redis_server: RedisServer, cognito_pool: CognitoPool, node_instance: str, replies_bucket: str
) -> Iterator[list[str]]:
    env = router_env(redis_server, cognito_pool)
    started = [start_router(env) for _ in range(2)]
    try:
        for process, url in started:
            wait_until_up(process, url)
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=10)
            if process.stderr is not None:
                process.stderr.close()


def test_two_router_processes_share_one_limit(
    two_routers: list[str], cognito_pool: CognitoPool
) -> None:
    auth = {"Authorization": f"Bearer {cognito_pool.access_token()}"}
    answers = [
        httpx.post(
            f"{two_routers[i % 2]}/infer", json={"prompt": f"p{i}"}, headers=auth, timeout=30
        )
        for i in range(PER_MINUTE + 1)
    ]
    assert [a.status_code for a in answers] == [202] * PER_MINUTE + [429], [a.text for a in answers]
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    # Either process refuses the next one too: the count lives in Redis, not in a process.
    again = httpx.post(f"{two_routers[0]}/infer", json={"prompt": "x"}, headers=auth, timeout=30)
    assert again.status_code == 429
