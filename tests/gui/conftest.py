"""The X server the window tests draw on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gui.x11 import xvfb


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb screen per test; its display name (":N")."""
    with xvfb() as number:
        yield number
