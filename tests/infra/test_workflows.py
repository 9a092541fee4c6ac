"""The pipeline's GitHub Actions workflows (.github/workflows), checked offline: actionlint and
zizmor (its online audits off) find nothing, every third-party action is pinned to a commit,
checkouts keep no token, and destroy refuses before it touches anything. Nothing here runs a
workflow: this machine has neither GitHub nor AWS."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.hcl import REPO

WORKFLOWS = REPO / ".github" / "workflows"
# Both come from the dev extra, beside this interpreter (no PATH lookup: a system copy of
# another version must not answer for the pinned one).
BIN = Path(sys.executable).parent
# `uses: owner/repo@<40 hex> # vX.Y.Z`: zizmor's unpinned-uses wants the commit; the comment
# says which release it is, for a reader and for Dependabot.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")

CHECKOUT = "actions/checkout@"


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing from {BIN}: pip install -e '.[dev]' (make lint)"
    return str(path)


def workflows() -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text("utf-8")) for p in sorted(WORKFLOWS.glob("*.yml"))}


def steps() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, step)
        for name, flow in workflows().items()
        for job in flow["jobs"].values()
        for step in job.get("steps", [])
    ]


def test_the_four_workflows_exist() -> None:
    assert set(workflows()) == {"validate.yml", "deploy.yml", "bake.yml", "destroy.yml"}


def test_actionlint_finds_nothing() -> None:
    done = subprocess.run(
        [tool("actionlint"), "-no-color"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_offline_finds_nothing() -> None:
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--strict-collection", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_to_a_commit() -> None:
    lines = [
        line.strip().removeprefix("- ").removeprefix("uses: ")
        for path in WORKFLOWS.glob("*.yml")
        for line in path.read_text("utf-8").splitlines()
        if re.match(r"\s*(- )?uses: ", line)
    ]
    assert lines
    assert [line for line in lines if not PINNED.match(line)] == []


def test_checkouts_keep_no_token() -> None:
    checkouts = [(name, s) for name, s in steps() if s.get("uses", "").startswith(CHECKOUT)]
    assert checkouts
    assert [name for name, s in checkouts if s["with"]["persist-credentials"] is not False] == []


@pytest.mark.parametrize("name", ["deploy.yml", "bake.yml", "destroy.yml"])
def test_deploying_jobs_queue_per_environment(name: str) -> None:
    for job in workflows()[name]["jobs"].values():
        assert job["concurrency"]["group"].startswith("deploy-")
        assert job["concurrency"]["cancel-in-progress"] is False


def test_destroy_checks_the_confirmation_before_anything_else() -> None:
    (job,) = workflows()["destroy.yml"]["jobs"].values()
    first = job["steps"][0]
    assert "uses" not in first
    assert '"$CONFIRM" != "$TARGET"' in first["run"]
    assert job["env"]["CONFIRM"] == "${{ inputs.confirm }}"
