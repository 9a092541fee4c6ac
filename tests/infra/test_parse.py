"""Every OpenTofu and Packer file parses (python-hcl2), with the layout the seed's plan asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.hcl import ENVS, INFRA, PACKER, load, module_dirs, tf_files

HCL_FILES = [*tf_files(), *sorted(ENVS.glob("*.tfvars")), *sorted(PACKER.glob("*.pkr.hcl"))]


@pytest.mark.parametrize("path", HCL_FILES, ids=lambda p: str(p.relative_to(INFRA.parent)))
def test_parses(path: Path) -> None:
    assert isinstance(load(path), dict)


def test_there_is_something_to_parse() -> None:
    assert len(tf_files()) >= 30
    assert list(PACKER.glob("*.pkr.hcl"))


def test_root_and_modules_have_the_standard_files() -> None:
    for directory in module_dirs():
        for name in ("main.tf", "variables.tf", "outputs.tf"):
            assert (directory / name).is_file(), f"{directory.name} lacks {name}"
    for name in ("versions.tf", "providers.tf", "backend.tf"):
        assert (INFRA / name).is_file()


def test_modules_of_the_issue_exist() -> None:
    names = {d.name for d in module_dirs()[1:]}
    assert {
        "network",
        "redis",
        "lambdas",
        "api",
        "identity",
        "node",
        "storage",
        "schedule",
        "budgets",
        "observability",
    } <= names
