"""gui/backends.py: capabilities known up front, each backend built once on first use."""

from __future__ import annotations

import pytest

from gui.backend import AWS_TINYLLAMA, OPENAI
from gui.backend_errors import BackendRefused
from gui.backends import BackendEntry, BackendRegistry
from tests.doubles.gui_doubles import BackendDouble
from tlfif.errors import ConfigError


def test_a_backend_is_built_on_first_use_and_then_kept() -> None:
    built: list[str] = []

    def build() -> BackendDouble:
        built.append("aws")
        return BackendDouble()

    registry = BackendRegistry([BackendEntry(AWS_TINYLLAMA, True, True, build)])
    assert built == []  # choosing it in the dropdown costs nothing
    assert registry.get(AWS_TINYLLAMA) is registry.get(AWS_TINYLLAMA)
    assert built == ["aws"]


def test_a_setup_problem_is_refused_naming_the_backend() -> None:
    def build() -> BackendDouble:
        raise ConfigError("no stack configured: run `make up`")

    registry = BackendRegistry([BackendEntry(AWS_TINYLLAMA, True, True, build)])
    with pytest.raises(BackendRefused, match=f"^{AWS_TINYLLAMA}: no stack configured"):
        registry.get(AWS_TINYLLAMA)


def test_close_closes_only_what_was_built() -> None:
    aws, openai = BackendDouble(), BackendDouble(name=OPENAI)
    registry = BackendRegistry(
        [
            BackendEntry(AWS_TINYLLAMA, True, True, lambda: aws),
            BackendEntry(OPENAI, False, False, lambda: openai),
        ]
    )
    registry.get(OPENAI)
    registry.close()
    assert (aws.closed, openai.closed) == (False, True)
    assert registry.names == [AWS_TINYLLAMA, OPENAI]
