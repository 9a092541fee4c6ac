"""Hypothesis profiles for the property tests, and the one this folder runs under.

`bounded` (the default) runs a fixed, repeatable set of examples per property, so the
folder takes seconds on a busy CI machine and a failure reproduces on the next run.
HYPOTHESIS_PROFILE=thorough runs many more random ones (kept in .hypothesis/, which git
ignores); any other registered profile name works too, e.g. Hypothesis's own "ci".
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "bounded",
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    # A busy core generating a 6 KiB chat is slow, not wrong.
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "bounded")


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Load the profile only while this folder's modules are imported: @given (and
    settings()) read Hypothesis's default then, and a profile loaded for the whole session
    would also change the tests of other folders (tests/security's schemathesis runs)."""
    outer = settings.get_current_profile_name()
    settings.load_profile(PROFILE)
    try:
        return (yield)
    finally:
        settings.load_profile(outer)
