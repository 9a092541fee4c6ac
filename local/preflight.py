"""`make up`'s engine check: before the stack says "up", its engine must produce a token.

The engine is started exactly as the node will start it, asked for one token of one prompt,
and stopped. An engine that dies on the way (a CPU kernel the machine cannot run faults in
libggml-cpu.so, say) is reported in one line: how it died, the library where the kernel or
its own output names one, and what to do. A stack that says "up" with a dead engine would
fail every prompt instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from local.crash_report import Exit, describe_exit
from local.processes import ChildProcess

POLL_SECONDS = 0.2
REQUEST_TIMEOUT_SECONDS = 30.0
CPUINFO = Path("/proc/cpuinfo")
# What the engine's wheel is built for (tools/engine_build.py).
BASELINE_FLAGS = ("avx2", "fma", "f16c", "bmi2")
CRASH_SIGNALS = ("SIGILL", "SIGSEGV", "SIGBUS", "SIGFPE")


class EngineCheckFailed(Exception):
    """The engine did not produce a token; str() is the one line to show."""


@dataclass(frozen=True)
class EngineCommand:
    """How the node runs its engine: the command, its environment, where it listens and
    the model name it serves."""

    args: Sequence[str]
    env: Mapping[str, str]
    port: int
    model: str


def check_engine(engine: EngineCommand, run_dir: Path, timeout_seconds: float) -> float:
    """Start the engine, ask for one token, stop it; the seconds that took.

    Raises EngineCheckFailed when it dies first or has produced no token in time.
    """
    started = time.monotonic()
    child = ChildProcess("engine-check", engine.args, engine.env, run_dir)
    try:
        while True:
            returncode = child.process.poll()
            if returncode is not None:
                exit_ = describe_exit(returncode, child.pid, started, child.log_path)
                raise EngineCheckFailed(death_line(exit_, child.log_path))
            if _one_token(engine.port, engine.model):
                return time.monotonic() - started
            if time.monotonic() - started > timeout_seconds:
                raise EngineCheckFailed(
                    f"engine check failed: no token within {timeout_seconds:g} s "
                    f"(log: {child.log_path}); raise TLFIF_LOCAL_READINESS_TIMEOUT_SECONDS "
                    "on a slow machine"
                )
            time.sleep(POLL_SECONDS)
    finally:
        child.stop()


def death_line(exit_: Exit, log_path: Path) -> str:
    return (
        f"engine check failed: the engine {exit_} before it produced a token "
        f"(log: {log_path}); {advice(exit_)}"
    )


def advice(exit_: Exit, cpuinfo: Path = CPUINFO) -> str:
    """What to do about an engine that died this way."""
    if exit_.signal in CRASH_SIGNALS:
        missing = missing_baseline_flags(cpuinfo)
        if missing:
            return (
                f"this CPU lacks {', '.join(missing)}, which the engine is built for: "
                "point TLFIF_LOCAL_ENGINE_URL at another OpenAI-compatible server"
            )
        amx = " (this CPU advertises AMX, whose kernels fault in VMs that do not grant it)"
        return (
            f"the installed engine may be built for another CPU{amx if has_amx(cpuinfo) else ''}"
            ": `make clean && make up` reinstalls it from the portable build in "
            "~/.cache/tlfif/engine"
        )
    return (
        "see its log; TLFIF_LOCAL_ENGINE_URL points the stack at another "
        "OpenAI-compatible server instead"
    )


def cpu_flags(cpuinfo: Path = CPUINFO) -> set[str] | None:
    """The first CPU's flags from /proc/cpuinfo; None where there is no such line (not
    x86, not Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return None


def missing_baseline_flags(cpuinfo: Path = CPUINFO) -> list[str]:
    """The baseline's CPU flags this x86-64 CPU does not advertise (none elsewhere: other
    machines build with their own defaults)."""
    flags = cpu_flags(cpuinfo)
    return [] if flags is None else [flag for flag in BASELINE_FLAGS if flag not in flags]


def has_amx(cpuinfo: Path = CPUINFO) -> bool:
    return "amx_tile" in (cpu_flags(cpuinfo) or set())


def _one_token(port: int, model: str) -> bool:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Hello"}],
        "max_tokens": 1,
        "temperature": 0,
    }
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        answer = httpx.post(url, json=body, timeout=REQUEST_TIMEOUT_SECONDS)
        return answer.status_code == 200 and bool(answer.json().get("choices"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return False  # not listening yet, or not answering as an OpenAI server would
