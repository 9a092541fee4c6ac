"""The local engine's wheel, built once for a fixed x86-64 baseline and kept in a cache folder.

llama-cpp-python compiles llama.cpp with GGML_NATIVE by default: for the build machine's own
CPU. On a Xeon that advertises AMX that turns on tile kernels, which fault (`ldtilecfg`, a
general protection fault in libggml-cpu.so) on VMs that do not grant worker threads the XFD
permission, and a wheel built on one machine may not run on the next. So the engine is built for
one baseline whatever CPU builds it: AVX2, FMA, F16C, BMI2; no AVX-512, no AMX, no AVX-VNNI.

pip's wheel cache keys on the source, not on CMAKE_ARGS, so it could hand back a wheel built
earlier with other flags. The wheel is therefore built with pip's cache off, into a folder
named by everything that makes it what it is (version, flags, compiler, `uname -m`), under
~/.cache (or $TLFIF_ENGINE_CACHE): outside the repo, so `make clean` keeps it.

    python -m tools.engine_build          # prints the wheel's path, building it if missing
                                          # (progress goes to stderr)
    python -m tools.engine_build --key    # prints the cache folder's name only

Stdlib only: the Makefile runs it before the venv exists. Other architectures than x86_64
build with llama.cpp's own defaults for them and are untested.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGE = "llama-cpp-python"
# Kept equal to pyproject.toml's `local` extra (tests/unit/test_engine_build.py checks it).
VERSION = "0.3.36"
# The portable baseline (x86-64-v3 without MOVBE/LZCNT tuning): every flag named, so a
# change of llama.cpp's defaults cannot widen it silently.
X86_64_FLAGS = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_AVX_VNNI=OFF",
    "-DGGML_AVX512=OFF",
    "-DGGML_AVX512_VBMI=OFF",
    "-DGGML_AVX512_VNNI=OFF",
    "-DGGML_AVX512_BF16=OFF",
    "-DGGML_AMX_TILE=OFF",
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
    "-DGGML_CPU_ALL_VARIANTS=OFF",
    "-DGGML_BACKEND_DL=OFF",
)
OTHER_FLAGS = ("-DGGML_NATIVE=OFF",)


def cmake_flags(machine: str) -> tuple[str, ...]:
    return X86_64_FLAGS if machine == "x86_64" else OTHER_FLAGS


def compiler_version() -> str:
    """The C compiler as a name part, e.g. `gcc-12.2.0` or `clang-16.0.6`."""
    cc = os.environ.get("CC", "cc")
    try:
        banner = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
        version = subprocess.run(
            [cc, "-dumpfullversion", "-dumpversion"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        raise SystemExit(f"engine build: no C compiler ({cc}); install gcc or set CC") from None
    kind = "clang" if "clang" in banner else "gcc"
    return f"{kind}-{version or 'unknown'}"


def cache_key(machine: str, compiler: str) -> str:
    flags = " ".join(cmake_flags(machine))
    digest = hashlib.sha256(flags.encode()).hexdigest()[:12]
    return f"{PACKAGE}-{VERSION}_cmake-{digest}_{compiler}_{machine}"


def cache_root() -> Path:
    explicit = os.environ.get("TLFIF_ENGINE_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "tlfif" / "engine"


def find_wheel(folder: Path) -> Path | None:
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    return wheels[0] if wheels else None


def say(message: str) -> None:
    print(f"engine build: {message}", file=sys.stderr, flush=True)


def build_wheel(folder: Path, flags: tuple[str, ...]) -> Path:
    """pip wheel with its cache off, in a scratch folder moved into place only when whole."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CMAKE_ARGS=" ".join(flags), PIP_NO_CACHE_DIR="1")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    started = time.monotonic()
    say(f"compiling {PACKAGE} {VERSION} for the portable baseline (~10 min on 2 cores)")
    say(f"CMAKE_ARGS={env['CMAKE_ARGS']}")
    scratch = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".build-"))
    try:
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary", PACKAGE,
             "-w", str(scratch), f"{PACKAGE}=={VERSION}"],
            env=env,
            stdout=sys.stderr,  # stdout carries only the wheel's path
        )  # fmt: skip
        if built.returncode != 0:
            raise SystemExit(
                f"engine build: pip wheel failed (exit {built.returncode}); its output above "
                "says why (a C/C++ compiler and cmake >= 3.21 are needed)"
            )
        if find_wheel(scratch) is None:
            raise SystemExit("engine build: pip wheel finished but left no wheel")
        (scratch / "CMAKE_ARGS").write_text(env["CMAKE_ARGS"] + "\n")
        os.replace(scratch, folder)  # atomic: a half-built folder is never taken for a cache
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    minutes = (time.monotonic() - started) / 60
    say(f"done in {minutes:.1f} min, cached in {folder}")
    wheel = find_wheel(folder)
    assert wheel is not None
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.engine_build", description=__doc__)
    parser.add_argument("--key", action="store_true", help="print the cache folder's name only")
    args = parser.parse_args(argv)
    machine = platform.machine()
    key = cache_key(machine, compiler_version())
    if args.key:
        print(key)
        return 0
    folder = cache_root() / key
    wheel = find_wheel(folder) or build_wheel(folder, cmake_flags(machine))
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
