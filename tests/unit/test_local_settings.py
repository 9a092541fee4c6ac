"""local/settings.py: several nodes need an engine they share (TLFIF_LOCAL_ENGINE_URL)."""

from __future__ import annotations

import pytest

from local.settings import LocalSettings
from tlfif.errors import ConfigError


def test_one_node_is_the_default_and_needs_no_engine_url() -> None:
    assert LocalSettings().nodes == 1


def test_several_nodes_need_an_engine_url_and_the_error_names_both_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TLFIF_LOCAL_NODES", "2")
    with pytest.raises(ConfigError, match="TLFIF_LOCAL_NODES=2 needs TLFIF_LOCAL_ENGINE_URL"):
        LocalSettings.load()
    monkeypatch.setenv("TLFIF_LOCAL_ENGINE_URL", "http://127.0.0.1:8000/v1")
    assert LocalSettings.load().nodes == 2


def test_at_most_four_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLFIF_LOCAL_NODES", "5")
    monkeypatch.setenv("TLFIF_LOCAL_ENGINE_URL", "http://127.0.0.1:8000/v1")
    with pytest.raises(ConfigError, match="invalid setting TLFIF_LOCAL_NODES"):
        LocalSettings.load()
