"""The layers contract (pyproject.toml, [tool.importlinter]; ADR 0020) holds, and it bites:
a module that breaks each rule, added to a copy of the tree, makes `lint-imports` fail,
naming the rule."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root packages' Python files and pyproject.toml, copied once."""
    copy = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.json")
        )
    return copy


def test_the_tree_keeps_every_contract() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("module", "imports", "broken"),
    [
        ("tlfif/_breach.py", "import gui", "the library (tlfif) imports no app"),
        ("tlfif/client/_breach.py", "import tlfif_cli", "the library (tlfif) imports no app"),
        ("tlfif/aws/_breach.py", "import tlfif.client.api", "does not import the client tier"),
        ("tlfif_cli/_breach.py", "import watcher", "the CLI imports"),
        ("gui/_breach.py", "import tlfif_cli", "the GUI imports"),
        ("router/_breach.py", "import tlfif.client", "the server apps"),
        ("queue_health/_breach.py", "import gui", "the server apps"),
        ("watcher/_breach.py", "import router", "never import each other"),
    ],
)
def test_a_module_that_breaks_a_rule_fails_the_lint(
    tree: Path, module: str, imports: str, broken: str
) -> None:
    breach = tree / module
    breach.write_text(f'"""A deliberate breach of the layers."""\n\n{imports}\n')
    try:
        run = lint_imports(tree)
    finally:
        breach.unlink()
    assert run.returncode != 0, run.stdout
    broken_lines = [line for line in run.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(broken in line for line in broken_lines), run.stdout
