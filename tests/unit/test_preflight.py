"""local/preflight.py's advice: what to do about an engine that died, by how it died."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.crash_report import Exit
from local.preflight import advice, death_line, missing_baseline_flags

SEGFAULT = Exit("died by SIGSEGV", "SIGSEGV", "general protection fault", "libggml-cpu.so.0")


def cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    return path


def test_a_crash_on_a_cpu_with_the_baseline_says_to_reinstall(tmp_path: Path) -> None:
    info = cpuinfo(tmp_path, "fpu sse avx avx2 fma f16c bmi1 bmi2 amx_tile amx_int8")
    said = advice(SEGFAULT, info)
    assert "make clean && make up" in said and "AMX" in said


def test_a_crash_on_a_cpu_without_avx2_names_what_it_lacks(tmp_path: Path) -> None:
    said = advice(SEGFAULT, cpuinfo(tmp_path, "fpu sse sse2 avx"))
    assert "lacks avx2, fma, f16c, bmi2" in said and "TLFIF_LOCAL_ENGINE_URL" in said


def test_other_machines_have_no_baseline_to_miss(tmp_path: Path) -> None:
    arm = tmp_path / "cpuinfo"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd\n")
    assert missing_baseline_flags(arm) == []


@pytest.mark.parametrize("ended", [SEGFAULT, Exit("exited with status 1", None)])
def test_the_failure_is_one_line_naming_the_log(ended: Exit, tmp_path: Path) -> None:
    line = death_line(ended, tmp_path / "engine-check.log")
    assert "\n" not in line and f"(log: {tmp_path / 'engine-check.log'})" in line
    assert line.startswith(f"engine check failed: the engine {ended}")
