"""Parsed HCL of infra/ and packer/ for the property tests (python-hcl2, no tofu binary).

Values come back as python-hcl2 gives them with string quotes stripped: literals as Python
values, expressions as "${...}" strings.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
PACKER = REPO / "packer"
ENVS = INFRA / "envs"


def _options() -> SerializationOptions:
    options = SerializationOptions(with_comments=False, explicit_blocks=False)
    options.strip_string_quotes = True
    options.preserve_heredocs = False
    return options


@functools.cache
def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle, serialization_options=_options()))


def tf_files() -> list[Path]:
    return sorted(INFRA.rglob("*.tf"))


def module_dirs() -> list[Path]:
    return [INFRA, *sorted(p for p in (INFRA / "modules").iterdir() if p.is_dir())]


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: dict[str, Any]
    path: Path

    @property
    def address(self) -> str:
        return f"{self.path.parent.name}/{self.type}.{self.name}"


def blocks(kind: str, paths: list[Path] | None = None) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in paths or tf_files():
        for block in load(path).get(kind, []):
            yield path, block


def resources(type_: str | None = None) -> list[Resource]:
    found = []
    for path, block in blocks("resource"):
        for rtype, named in block.items():
            for name, body in named.items():
                if type_ is None or rtype == type_:
                    found.append(Resource(rtype, name, body, path))
    return found


def variables(directory: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for _, block in blocks("variable", sorted(directory.glob("*.tf"))):
        found.update(block)
    return found


def nested(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A nested block as a list of its occurrences (hcl2 gives a list, or a dict for one)."""
    value = body.get(key, [])
    return value if isinstance(value, list) else [value]


@functools.cache
def node_env_script() -> ModuleType:
    """packer/files/tlfif-node-env.py, the node's boot script, as a module (its name has a
    dash, so it cannot be imported by name)."""
    path = PACKER / "files" / "tlfif-node-env.py"
    spec = importlib.util.spec_from_file_location("tlfif_node_env", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
