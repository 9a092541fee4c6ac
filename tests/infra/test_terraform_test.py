"""infra/ under the real tool, offline: `fmt -check`, `init` and `validate` with no error and
no warning, and infra/tests/*.tftest.hcl under `terraform test` (or `tofu test`): the modules'
promises about what they configure (security groups, IMDSv2, self-stop, bucket controls),
evaluated by the tool itself against a mock AWS provider. In a copy of infra/ (init writes
.terraform/)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA
from tests.infra.terraform_stack import init_args, require_tool, run_tool

SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")


@pytest.fixture
def initialised(tmp_path: Path) -> tuple[str, Path]:
    """The tool, and a copy of infra/ initialised without a backend."""
    binary = require_tool()
    infra = tmp_path / "infra"
    shutil.copytree(INFRA, infra, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    done = run_tool(binary, [*init_args(binary), "-backend=false"], infra, timeout=120)
    assert done.returncode == 0, f"init failed:\n{done.stdout}\n{done.stderr}"
    return binary, infra


def test_infra_is_fmt_clean() -> None:
    done = run_tool(require_tool(), ["fmt", "-check", "-recursive", "-diff"], INFRA, timeout=60)
    assert done.returncode == 0, f"fmt would rewrite:\n{done.stdout}{done.stderr}"


def test_infra_validates_with_no_error_and_no_warning(initialised: tuple[str, Path]) -> None:
    binary, infra = initialised
    done = run_tool(binary, ["validate", "-json"], infra, timeout=120)
    report = json.loads(done.stdout)
    said = [f"{d['severity']}: {d['summary']} ({d.get('range', {}).get('filename')})"
            for d in report["diagnostics"]]  # fmt: skip
    assert report["valid"] and said == [], said


def test_init_offline_matches_the_committed_lock_file(initialised: tuple[str, Path]) -> None:
    _, infra = initialised
    # init checks the provider it found against the lock's checksum and would have failed.
    assert (infra / ".terraform.lock.hcl").read_text() == (
        INFRA / ".terraform.lock.hcl"
    ).read_text()


# 30-60 s on two cores: every run starts the AWS provider a few times.
@pytest.mark.timeout(300)
def test_the_modules_keep_their_promises(initialised: tuple[str, Path]) -> None:
    binary, infra = initialised
    done = run_tool(binary, ["test"], infra, timeout=270)
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"{Path(binary).name} test failed:\n{output}"
    summary = SUMMARY.findall(done.stdout)
    assert summary and int(summary[-1][0]) > 0, f"no run passed:\n{output}"
