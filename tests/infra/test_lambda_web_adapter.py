"""The streaming edge's handler (ADR 0028): router/lambda_stream.sh, which the Lambda Web
Adapter's wrapper execs, serves the same ASGI app `make up` serves, where the adapter looks
for it; and the router's zip carries it, executable, with uvicorn. That this app streams
under that command is tests/integration/test_router_openai_stack.py's; what only AWS can
show (the adapter, the function URL, streaming from a VPC function) is README's list."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.stack import ROUTER_ARGS
from tests.fixtures.redis_servers import RedisServer, free_port
from tools.package_lambdas import FUNCTIONS, ROOT, local_modules, write_zip

SCRIPT = ROOT / "router" / "lambda_stream.sh"
START_TIMEOUT_SECONDS = 30.0


def exec_line() -> list[str]:
    """The script's command, its line continuations joined."""
    text = SCRIPT.read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith("exec ")]
    return shlex.split(line)[1:]


@pytest.fixture
def adapter_port(tmp_path: Path, redis_server: RedisServer) -> Iterator[int]:
    """The script started as the adapter starts it: a runtime's environment (no TLFIF_* or
    AWS_* of the shell's), the function's settings, AWS_LWA_PORT; stopped at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLFIF_", "AWS_"))}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "AWS_LWA_PORT": str(port),
        "TLFIF_ROUTER_COGNITO_ISSUER": "https://cognito-idp.eu-central-1.amazonaws.com/pool",
        "TLFIF_ROUTER_CLIENT_IDS": "client",
        "TLFIF_REDIS_URL": redis_server.url,
    }
    with (tmp_path / "router.log").open("wb") as log:
        child = subprocess.Popen([str(SCRIPT)], cwd=tmp_path, env=env, stdout=log, stderr=log)
        try:
            yield port
        finally:
            child.terminate()
            child.wait(timeout=10)


@pytest.mark.slow  # 4-6 s on two cores: a fresh interpreter imports the router
def test_the_run_script_serves_the_router_where_the_adapter_looks(adapter_port: int) -> None:
    base = f"http://127.0.0.1:{adapter_port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:  # what the adapter does before it takes the first event
        try:
            ping = httpx.get(base + "/ping", timeout=1)  # AWS_LWA_READINESS_CHECK_PATH
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the run script's router never answered"
            time.sleep(0.1)
    assert ping.status_code == 200 and ping.json() == {"status": "ok"}
    # No gateway in front: the router checks the token itself (TRUST_GATEWAY_CLAIMS off).
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    refused = httpx.post(base + "/v1/chat/completions", json=body, timeout=5)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")


def test_the_run_script_runs_make_ups_router_command() -> None:
    """The adapter's port aside, what local/stack.py runs the router with."""
    command = exec_line()
    port_at = command.index("--port")
    assert command[0] == "python3"
    assert command[1:port_at] + command[port_at + 2 :] == ROUTER_ARGS
    assert command[port_at + 1] == "${AWS_LWA_PORT:-8080}"


def test_the_routers_zip_carries_the_run_script_executable_and_uvicorn(tmp_path: Path) -> None:
    (router,) = [function for function in FUNCTIONS if function.name == "router"]
    assert "uvicorn" in router.requires
    carried = local_modules(router.handler, router.data)
    assert SCRIPT in carried
    source = tmp_path / "zip"
    (source / "router").mkdir(parents=True)
    (source / "router" / "lambda_stream.sh").write_bytes(SCRIPT.read_bytes())
    (source / "router" / "handler.py").write_text("")
    write_zip(source, tmp_path / "router.zip")
    with zipfile.ZipFile(tmp_path / "router.zip") as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["router/lambda_stream.sh"] & stat.S_IXUSR
    assert not modes["router/handler.py"] & stat.S_IXUSR
    assert os.access(SCRIPT, os.X_OK), "git must keep the script's mode 755"
