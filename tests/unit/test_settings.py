"""Settings fail at start on an unknown name or an invalid value, naming it."""

from __future__ import annotations

import pytest

from tlfif.errors import ConfigError
from tlfif.settings import CommonSettings, RouterSettings, WatcherSettings


def test_defaults_load(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CommonSettings.load().job_ttl_seconds == 300
    assert WatcherSettings.load().concurrency == 4


def test_unknown_name_under_a_prefix_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLFIF_WATCHER_IDLE_CAP", "5")
    with pytest.raises(ConfigError, match="TLFIF_WATCHER_IDLE_CAP"):
        WatcherSettings.load()


def test_shared_prefix_ignores_deployable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLFIF_WATCHER_CONCURRENCY", "2")
    monkeypatch.setenv("TLFIF_ROUTER_CLIENT_IDS", "a, b")
    assert CommonSettings.load().redis_url.startswith("redis://")
    assert RouterSettings.load().client_ids == ["a", "b"]
    monkeypatch.setenv("TLFIF_REDIS_ULR", "redis://x")
    with pytest.raises(ConfigError, match="TLFIF_REDIS_ULR"):
        CommonSettings.load()


def test_invalid_value_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLFIF_WATCHER_CONCURRENCY", "zero")
    with pytest.raises(ConfigError, match="TLFIF_WATCHER_CONCURRENCY"):
        WatcherSettings.load()


def test_jwks_url_defaults_to_the_issuers() -> None:
    settings = RouterSettings.load(
        cognito_issuer="https://cognito-idp.eu-central-1.amazonaws.com/p"
    )
    assert settings.resolved_jwks_url.endswith("/p/.well-known/jwks.json")


def test_router_limits_and_gateway_trust_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = RouterSettings.load()
    assert (defaults.throttle_write_per_second, defaults.throttle_write_per_minute) == (5, 20)
    assert (defaults.throttle_read_per_second, defaults.throttle_read_per_minute) == (10, 300)
    assert defaults.user_pending_cap == 20 and defaults.trust_gateway_claims is False
    monkeypatch.setenv("TLFIF_ROUTER_THROTTLE_WRITE_PER_MINUTE", "6")
    monkeypatch.setenv("TLFIF_ROUTER_USER_PENDING_CAP", "0")
    monkeypatch.setenv("TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS", "true")
    loaded = RouterSettings.load()
    assert loaded.throttle_write_per_minute == 6 and loaded.user_pending_cap == 0
    assert loaded.trust_gateway_claims is True
    monkeypatch.setenv("TLFIF_ROUTER_THROTTLE_READ_PER_SECOND", "-1")
    with pytest.raises(ConfigError, match="TLFIF_ROUTER_THROTTLE_READ_PER_SECOND"):
        RouterSettings.load()


def test_the_v1_wait_and_the_served_model_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = RouterSettings.load()
    # API Gateway ends every request at 30 s; the watcher asks its engine for the same model.
    assert (
        defaults.v1_wait_seconds == 25 and defaults.served_model == WatcherSettings().engine_model
    )
    monkeypatch.setenv("TLFIF_ROUTER_V1_WAIT_SECONDS", "1.5")
    monkeypatch.setenv("TLFIF_ROUTER_SERVED_MODEL", "gemma-3-270m")
    loaded = RouterSettings.load()
    assert (loaded.v1_wait_seconds, loaded.served_model) == (1.5, "gemma-3-270m")
    monkeypatch.setenv("TLFIF_ROUTER_V1_WAIT_SECONDS", "0")
    with pytest.raises(ConfigError, match="TLFIF_ROUTER_V1_WAIT_SECONDS"):
        RouterSettings.load()
