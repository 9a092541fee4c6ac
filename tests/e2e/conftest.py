"""The e2e tests share one `make up` stack per module; see tests/fixtures/local_stack.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.local_stack import StackRun, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackRun]:
    """One stack shared by a module's tests; each test waits for the node state it needs."""
    run = start_stack(tmp_path_factory.mktemp("stack"))
    yield run
    run.interrupt()
