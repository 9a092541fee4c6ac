"""`make lambda-package`: the zips hold wheels for Lambda's runtime (CPython 3.12 on x86_64
manylinux) and only what each function needs, and each handler imports from its zip alone.

Slow: it installs every function's dependencies (from the local PyPI mirror) and, with a
CPython 3.12 present, byte-compiles them.
"""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.once import built_once
from tests.infra.hcl import REPO, load
from tools import package_lambdas
from tools.package_lambdas import FUNCTIONS, Function

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

HANDLER_PACKAGES = {f.handler.split(".")[0] for f in FUNCTIONS}
# uvicorn too: the optional streaming edge runs the router's zip under the Lambda Web
# Adapter (ADR 0028, router/lambda_stream.sh).
WEB_ONLY = {"starlette", "jose", "httpx", "mangum", "cryptography", "anyio", "uvicorn"}
# The webhook sender posts with httpx (ADR 0031); the rest of the web stack stays out.
POSTS_WEBHOOKS = {"httpx", "anyio"}
NEVER = {
    "watcher", "local", "tests", "tools", "gui", "tlfif_cli",
    "moto", "fakeredis", "rich",
}  # fmt: skip
COMPILED_TAG = re.compile(r"^cp3(\d+)-(cp3\d+|abi3)-manylinux[0-9_a-z]*_x86_64$")
PURE_TAG = re.compile(r"^py[23](\.py3)?-none-any$|^py3-none-any$")


def build_zips(out: Path) -> None:
    assert package_lambdas.main(["--out", str(out)]) == 0


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    # Once per run: worksteal may give this module's tests to both workers.
    out = built_once(tmp_path_factory, "lambda-zips", build_zips)
    return {function.name: out / f"{function.name}.zip" for function in FUNCTIONS}


def top_level(names: list[str]) -> set[str]:
    return {name.split("/")[0].removesuffix(".py") for name in names}


def wheel_tags(archive: zipfile.ZipFile) -> dict[str, tuple[bool, list[str]]]:
    """dist-info name -> (pure, tags), from each installed wheel's WHEEL file."""
    found = {}
    for name in archive.namelist():
        if name.endswith(".dist-info/WHEEL"):
            text = archive.read(name).decode()
            pure = "Root-Is-Purelib: true" in text
            found[name.split("/")[0]] = (pure, re.findall(r"^Tag: (\S+)$", text, re.MULTILINE))
    return found


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_every_wheel_is_for_the_lambda_runtime(function: Function, zips: dict[str, Path]) -> None:
    with zipfile.ZipFile(zips[function.name]) as archive:
        tags = wheel_tags(archive)
        names = archive.namelist()
    assert tags, "no installed wheel found"
    for dist, (pure, dist_tags) in tags.items():
        for tag in dist_tags:
            if pure:
                assert PURE_TAG.match(tag), f"{dist}: {tag}"
                continue
            compiled = COMPILED_TAG.match(tag)
            assert compiled, f"{dist}: {tag} is not a manylinux x86_64 CPython wheel"
            if compiled.group(2) == "abi3":
                assert int(compiled.group(1)) <= 12, f"{dist}: {tag}"  # stable ABI: 3.12 loads it
            else:
                assert tag.startswith("cp312-cp312-"), f"{dist}: {tag} is not for CPython 3.12"
    for name in names:
        if name.endswith(".so"):
            assert "cpython-312-x86_64-linux-gnu" in name or name.endswith(".abi3.so"), name
        assert "cpython-311" not in name, name


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_each_zip_holds_only_what_its_function_needs(
    function: Function, zips: dict[str, Path]
) -> None:
    with zipfile.ZipFile(zips[function.name]) as archive:
        names = archive.namelist()
    tops = top_level(names)
    own = function.handler.split(".")[0]
    assert f"{function.handler.replace('.', '/')}.py" in names
    assert "tlfif/lua/enqueue.lua" in names
    assert not (HANDLER_PACKAGES - {own}) & tops
    assert not NEVER & tops
    assert not [name for name in names if name.startswith(("tlfif/client/", "tlfif_cli/"))]
    if function.name == "webhook_sender":
        assert not (WEB_ONLY - POSTS_WEBHOOKS) & tops
        assert {"httpx", "dns"} <= tops  # dnspython installs the `dns` package
    elif function.name != "router":
        assert not WEB_ONLY & tops
    else:  # the chat page's files, which router/chat_page.py serves
        assert {"router/static/index.html", "router/static/chat.js"} <= set(names)
    if function.aws_services:
        services = {
            n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 3
        }
        assert services == set(function.aws_services)
    else:
        assert not {"boto3", "botocore"} & tops


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_each_handler_imports_from_its_zip_alone_on_cpython_312(
    function: Function, zips: dict[str, Path], tmp_path: Path
) -> None:
    python = package_lambdas.python312()
    if python is None:
        pytest.skip("no CPython 3.12 on this machine")
    with zipfile.ZipFile(zips[function.name]) as archive:
        archive.extractall(tmp_path)
    # -I -S: no site-packages, no environment paths; only the stdlib and the zip's files.
    probe = f"""
import sys, sysconfig
sys.path.insert(0, {str(tmp_path)!r})
import {function.handler} as handler
assert callable(handler.handler)
for service in {list(function.aws_services)!r}:
    import boto3
    boto3.client(service, region_name="eu-central-1")
stdlib = sysconfig.get_paths()["stdlib"]
outside = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith(({str(tmp_path)!r}, stdlib))
)
assert not outside, outside
print(sys.version_info[:2])
"""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TLFIF_ROUTER_COGNITO_ISSUER": "https://cognito-idp.eu-central-1.amazonaws.com/pool",
        "TLFIF_ROUTER_CLIENT_IDS": "client",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    run = subprocess.run(
        [python, "-I", "-S", "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("(3, 12)")


def infra_handlers() -> dict[str, str]:
    """Each Lambda function's `handler` as infra/main.tf names it (those with a zip of their
    own: the streaming edge's runs the router's, tests/infra/test_lambda_web_adapter.py)."""
    blocks = load(REPO / "infra" / "main.tf")["locals"]
    (functions,) = [block["lambda_functions"] for block in blocks if "lambda_functions" in block]
    return {name: body["handler"] for name, body in functions.items()}


def test_every_handler_infra_names_is_in_its_zip(zips: dict[str, Path]) -> None:
    handlers = infra_handlers()
    assert set(handlers) == {function.name for function in FUNCTIONS}
    for name, handler in handlers.items():
        module, _, function = handler.rpartition(".")
        with zipfile.ZipFile(zips[name]) as archive:
            source = archive.read(module.replace(".", "/") + ".py").decode()
        assert re.search(rf"^{function}\b\s*=|^def {function}\b", source, re.M), handler
