"""`make lambda-package`: one zip per Lambda function, dist/lambda/<name>.zip.

Each zip holds the function's handler package, the library (tlfif/, without its client tier
tlfif/client/: by folder, which the layers contract makes enough), tlfif's Lua scripts, and
the function's third-party dependencies at the versions pyproject.toml pins, installed for
the Lambda runtime (CPython 3.12, x86_64, manylinux wheels only).

boto3 is bundled, pinned, where a function calls AWS, rather than taken from the runtime:
the runtime's copy moves with AWS's schedule, and the router's S3 write-once reply needs
PutObject's IfNoneMatch, which older botocores reject before sending. To keep the zips
small, botocore's service models are cut to the services each function calls.

With a CPython 3.12 at hand, modules are byte-compiled for it (unchecked-hash .pyc, valid
whatever the extracted files' times): /var/task is read-only, so Lambda could never cache
them itself and would compile every imported module on each cold start.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "dist" / "lambda"
PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): any manylinux wheel
# up to that works; manylinux2014 (glibc 2.17) is what most projects publish.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
CORE_DATA = ("tlfif/lua/*.lua",)
# Never shipped: the runtime cannot use them, or they only serve a developer.
DROPPED_DIRS = {"__pycache__", "bin"}
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
BASE = ("pydantic", "pydantic-settings", "redis", "aws-lambda-powertools")


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # the module whose `handler` Lambda calls
    requires: tuple[str, ...]  # distributions, each pinned in pyproject.toml
    aws_services: tuple[str, ...] = ()  # botocore models kept (boto3 bundled when any)
    data: tuple[str, ...] = ()  # the package's own files that are not Python (globs)


FUNCTIONS = (
    Function(
        "router",
        "router.handler",
        # uvicorn and lambda_stream.sh: the optional streaming edge runs this zip under the
        # Lambda Web Adapter (ADR 0028); the Mangum handler never imports uvicorn.
        (*BASE, "starlette", "python-jose", "httpx", "mangum", "boto3", "uvicorn"),
        ("ec2", "s3"),
        ("router/static/*", "router/lambda_stream.sh"),  # the chat page; the edge's run script
    ),
    Function("queue_health", "queue_health.handler", BASE),
    # ADR 0033: the uptime probe outside the VPC; urllib for its GETs, no Redis, no AWS call.
    Function(
        "ping_check",
        "ping_check.handler",
        ("pydantic", "pydantic-settings", "aws-lambda-powertools"),
    ),
    Function(
        "cost_publisher",
        "cost_publisher.handler",
        (*BASE, "boto3"),
        ("budgets", "ce", "ssm", "sts"),
    ),
    Function("budget_killer", "budget_killer.handler", (*BASE, "boto3"), ("ec2",)),
    Function("scheduled_check", "scheduled_check.handler", (*BASE, "boto3"), ("ec2", "s3")),
    # ADR 0031: posts webhooks (httpx, to the address it checked), resolves their hosts at a
    # named server when TLFIF_WEBHOOK_NAMESERVER says so (dnspython), publishes to SNS.
    Function(
        "webhook_sender",
        "webhook_sender.handler",
        (*BASE, "httpx", "dnspython", "boto3"),
        ("s3", "sns"),
    ),
)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """name -> requirement as pyproject.toml pins it ("python-jose[cryptography]==3.5.0")."""
    project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
    pins: dict[str, str] = {}
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if name is None or "==" not in requirement:
            raise SystemExit(f"pyproject.toml: {requirement!r} is not pinned with ==")
        pins[normalise(name.group(0))] = requirement
    return pins


def local_modules(handler: str, data: Sequence[str] = ()) -> list[Path]:
    """The project's own files a handler's zip carries, by folder: the handler's package and
    the library (tlfif/) without its client tier (tlfif/client/), and the data files `data`
    names. The layers contract (ADR 0020) keeps the library from importing any app or the
    client tier, so nothing else can be needed."""
    package = ROOT / handler.split(".")[0]
    library = ROOT / "tlfif"
    files = {*package.rglob("*.py"), *library.rglob("*.py")}
    files -= set((library / "client").rglob("*.py"))
    for pattern in (*CORE_DATA, *data):
        files.update(Path(found) for found in glob.glob(str(ROOT / pattern)))
    return sorted(path for path in files if "__pycache__" not in path.parts)


def python312() -> str | None:
    """A CPython 3.12 that runs (a pyenv shim may name one that does not), or None."""
    pattern = os.path.expanduser(f"~/.pyenv/versions/{PYTHON_VERSION}.*/bin/python3")
    candidates = [shutil.which(f"python{PYTHON_VERSION}"), *sorted(glob.glob(pattern))]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        result = subprocess.run(probe, capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip() == PYTHON_VERSION:
            return candidate
    return None


def install_dependencies(requires: Sequence[str], pins: dict[str, str], target: Path) -> None:
    missing = [name for name in requires if normalise(name) not in pins]
    if missing:
        raise SystemExit(f"no pin in pyproject.toml for {', '.join(missing)}")
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), *platforms, "--python-version", PYTHON_VERSION,
        "--implementation", "cp", "--only-binary=:all:", "--no-compile",
        *(pins[normalise(name)] for name in requires),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{', '.join(requires)}: pip failed:\n{result.stdout}{result.stderr}")


def trim_aws_models(target: Path, services: Sequence[str]) -> None:
    """Keep botocore's (and boto3's resource) models of `services` only."""
    for data in (target / "botocore" / "data", target / "boto3" / "data"):
        entries = sorted(data.iterdir()) if data.is_dir() else []
        for entry in entries:
            if entry.is_dir() and entry.name not in services:
                shutil.rmtree(entry)


def copy_sources(files: Sequence[Path], target: Path) -> None:
    for source in files:
        destination = target / source.relative_to(ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def drop_unused(target: Path) -> None:
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_dir() and path.name in DROPPED_DIRS:
            shutil.rmtree(path)


def byte_compile(target: Path, python: str) -> None:
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
         "unchecked-hash", str(target)],
        check=True,
    )  # fmt: skip


def write_zip(source: Path, zip_path: Path) -> None:
    """Sorted entries with a fixed time: the same inputs give the same bytes."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), FIXED_ZIP_TIME)
            # A run script must be executable: the adapter's wrapper execs it (ADR 0028).
            info.external_attr = (0o755 if path.suffix == ".sh" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def build(function: Function, installed: Path, out_dir: Path, python: str | None) -> Path:
    """The function's zip, from `installed` (its dependencies, which it leaves as they are)."""
    with tempfile.TemporaryDirectory(prefix=f"lambda-{function.name}-") as work:
        target = Path(work) / "zip"
        shutil.copytree(installed, target)
        trim_aws_models(target, function.aws_services)
        drop_unused(target)
        copy_sources(local_modules(function.handler, function.data), target)
        if python:
            byte_compile(target, python)
        zip_path = out_dir / f"{function.name}.zip"
        write_zip(target, zip_path)
    return zip_path


def build_all(
    functions: Sequence[Function], pins: dict[str, str], out_dir: Path, python: str | None
) -> list[Path]:
    """Every function's zip. Functions that need the same distributions share one install
    (three of the seven need exactly BASE + boto3), and the installs, then the builds, run
    side by side: pip mostly waits on the index, and compileall and zlib leave the GIL."""
    with (
        tempfile.TemporaryDirectory(prefix="lambda-deps-") as work,
        ThreadPoolExecutor(os.cpu_count() or 2) as pool,
    ):
        sets = sorted({function.requires for function in functions})
        targets = [Path(work) / str(n) for n in range(len(sets))]
        list(pool.map(lambda r, t: install_dependencies(r, pins, t), sets, targets))
        installed = dict(zip(sets, targets, strict=True))
        return list(pool.map(lambda f: build(f, installed[f.requires], out_dir, python), functions))


def unzipped_size(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        return sum(info.file_size for info in archive.infolist())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.package_lambdas", description=__doc__)
    parser.add_argument("names", nargs="*", help="functions to build (default: all)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the zips go")
    args = parser.parse_args(argv)
    chosen = [f for f in FUNCTIONS if not args.names or f.name in args.names]
    unknown = set(args.names) - {f.name for f in FUNCTIONS}
    if unknown:
        parser.error(f"unknown function(s): {', '.join(sorted(unknown))}")
    python = python312()
    if python is None:
        print("no python3.12 found: the zips ship without bytecode (slower cold starts)")
    for zip_path in build_all(chosen, pinned_requirements(), args.out, python):
        size, full = zip_path.stat().st_size, unzipped_size(zip_path)
        print(f"{zip_path.relative_to(ROOT) if zip_path.is_relative_to(ROOT) else zip_path}"
              f"  {size / 1e6:6.2f} MB  ({full / 1e6:.1f} MB unzipped)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
