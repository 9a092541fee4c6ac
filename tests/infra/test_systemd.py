"""`systemd-analyze verify` on the node's unit files, where systemd is present.

The units name executables that exist only on the node (/opt/vllm/venv/bin/vllm, ...), so
verification runs against a scratch root holding stand-ins for them and this machine's
own targets; any line systemd prints (a bad key, a bad value) is a failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.hcl import PACKER

UNITS = sorted((PACKER / "files").glob("*.service"))
HOST_UNITS = Path("/lib/systemd/system")


def executables(unit: Path) -> set[str]:
    text = unit.read_text().replace("\\\n", " ")
    return {m.split()[0].lstrip("-@") for m in re.findall(r"^Exec\w+=(.*)$", text, re.M)}


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (Debian: apt-get install systemd)")
    if not (HOST_UNITS / "multi-user.target").exists():
        pytest.skip(f"no systemd targets in {HOST_UNITS} to verify against")
    system = tmp_path / "etc" / "systemd" / "system"
    system.mkdir(parents=True)
    targets = tmp_path / "usr" / "lib" / "systemd" / "system"
    targets.mkdir(parents=True)
    for target in HOST_UNITS.glob("*.target"):
        shutil.copy(target, targets / target.name)
    for unit in UNITS:
        shutil.copy(unit, system / unit.name)
        for exe in executables(unit):
            stand_in = tmp_path / exe.lstrip("/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.write_text("#!/bin/sh\n")
            stand_in.chmod(0o755)
    return tmp_path


def test_there_are_units() -> None:
    assert {u.name for u in UNITS} == {
        "vllm.service",
        "tlfif-node-env.service",
        "tlfif-watcher.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_verifies(scratch_root: Path, unit: Path) -> None:
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={scratch_root}",
            "--man=no",
            "--generators=no",
            unit.name,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", result.stdout + result.stderr


def test_verify_catches_a_bad_unit(scratch_root: Path) -> None:
    """The check above would see a mistake: a misspelled value is reported."""
    bad = scratch_root / "etc" / "systemd" / "system" / "vllm.service"
    bad.write_text(bad.read_text().replace("Type=simple", "Type=simpel"))
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={scratch_root}", "--man=no", "vllm.service"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "simpel" in result.stdout + result.stderr
