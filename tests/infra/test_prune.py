"""infra/scripts/prune.py: which Lambda versions and AMIs go, and which never do."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.infra.hcl import INFRA


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prune", INFRA / "scripts" / "prune.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prune = load_script()


def test_keeps_the_newest_versions_and_latest() -> None:
    versions = ["$LATEST", *map(str, range(1, 10))]
    assert prune.versions_to_delete(versions, set(), keep=5) == ["4", "3", "2", "1"]


def test_never_deletes_a_version_an_alias_serves() -> None:
    versions = [str(v) for v in range(1, 10)]
    assert prune.versions_to_delete(versions, {"2"}, keep=5) == ["4", "3", "1"]


def test_fewer_versions_than_kept_deletes_nothing() -> None:
    assert prune.versions_to_delete(["1", "2"], set(), keep=5) == []


def test_amis_beyond_the_newest_go_but_never_the_current_one() -> None:
    images = [
        {"ImageId": "ami-1", "CreationDate": "2026-01-01T00:00:00Z"},
        {"ImageId": "ami-3", "CreationDate": "2026-03-01T00:00:00Z"},
        {"ImageId": "ami-2", "CreationDate": "2026-02-01T00:00:00Z"},
    ]
    assert prune.images_to_deregister(images, current="ami-3", keep=2) == ["ami-1"]
    # Rolled back to the oldest: it stays although it is beyond the newest two.
    assert prune.images_to_deregister(images, current="ami-1", keep=2) == []
