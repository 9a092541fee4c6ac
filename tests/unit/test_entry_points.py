"""Every module path named outside Python resolves in what ships it: a moved module fails
here, not at the owner's first deploy. (The Lambda handlers infra/ names are checked inside
their built zips, in tests/integration/test_lambda_package.py.)"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "packer" / "files"
PROVISION = (ROOT / "packer" / "scripts" / "provision.sh").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# What the node's venv holds (packer/scripts/provision.sh copies these into /opt/tlfif/app).
NODE_PACKAGES = ("tlfif", "watcher")
# Console scripts a unit runs from the node's venv, and the distribution that installs each.
NODE_CONSOLE_SCRIPTS = {"supervisord": "supervisor"}


def runnable(module: str) -> bool:
    """`python -m module` would run: a module, or a package with a __main__."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        return False
    if spec.submodule_search_locations is None:
        return True
    return importlib.util.find_spec(f"{module}.__main__") is not None


def makefile_modules() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"-m ([A-Za-z_][\w.]*)", text)) - {"venv"}


@pytest.mark.parametrize("module", sorted(makefile_modules()))
def test_every_python_m_target_of_the_makefile_runs(module: str) -> None:
    assert runnable(module), f"Makefile: python -m {module} names nothing runnable"


def test_the_console_script_names_a_callable() -> None:
    target = PYPROJECT["project"]["scripts"]["tlfif"]
    module, _, attribute = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attribute)), target


def test_supervisord_runs_a_watcher_that_the_node_ships() -> None:
    conf = (FILES / "supervisord-watcher.conf").read_text()
    commands = re.findall(r"^command=%\(ENV_NODE_PYTHON\)s -m ([\w.]+)$", conf, re.M)
    assert commands == ["watcher"]
    for module in commands:
        assert module.split(".")[0] in NODE_PACKAGES and runnable(module)
    assert 'cp -r "${APP}/tlfif" "${APP}/watcher" /opt/tlfif/app/' in PROVISION


@pytest.mark.parametrize("unit", sorted(path.name for path in FILES.glob("*.service")))
def test_every_execstart_names_what_provision_installs(unit: str) -> None:
    text = (FILES / unit).read_text().replace("\\\n", " ")
    for command in re.findall(r"^ExecStart=(\S+)(?: (\S+))?", text, re.M):
        program, first_argument = command
        if program == "/opt/tlfif/venv/bin/python":
            # A script run by the venv's Python: provision.sh installs it from packer/files.
            script = Path(first_argument).name
            assert (FILES / script).is_file() and f"/opt/tlfif/bin/{script}" in PROVISION
        elif program.startswith("/opt/tlfif/venv/bin/"):
            # A console script of the node venv's requirements.
            requirements = (FILES / "requirements-watcher.txt").read_text().split()
            distribution = NODE_CONSOLE_SCRIPTS[Path(program).name]
            assert any(line.startswith(f"{distribution}==") for line in requirements), program
        else:
            assert program.startswith("/opt/vllm/venv/bin/"), program


def test_the_node_ships_the_library_without_its_client_tier() -> None:
    assert "rm -rf /opt/tlfif/app/tlfif/client" in PROVISION
    # ... which the watcher cannot need: the layers contract forbids the import.
    watcher_code = "\n".join(path.read_text() for path in (ROOT / "watcher").rglob("*.py"))
    assert "tlfif.client" not in watcher_code
