"""Session, TokenFile and the Cognito IdentityProvider (against moto's real InitiateAuth)."""

from __future__ import annotations

import socket
import stat
import time
from pathlib import Path

import boto3
import pytest

from tests.doubles.identity_double import IdentityProviderDouble
from tests.fixtures.moto_server import REGION, CognitoPool
from tlfif.client.cognito import CognitoIdentityProvider
from tlfif.client.config import StackConfig
from tlfif.client.errors import LoginFailed, NotLoggedIn, ServiceUnreachable, SessionExpired
from tlfif.client.session import REFRESH_MARGIN_SECONDS, Session
from tlfif.client.tokens import TokenFile, TokenSet
from tlfif.errors import ConfigError


def config(demo: bool = True, client_id: str = "client-double") -> StackConfig:
    return StackConfig(
        api_url="http://router.test",
        user_pool_id="eu-central-1_TEST",
        client_id=client_id,
        demo_username="demo" if demo else None,
        demo_password="demo-pw" if demo else None,
    )


def tokens(
    username: str = "demo", expires_in: float = 3600, client_id: str = "client-double"
) -> TokenSet:
    return TokenSet(
        username=username,
        client_id=client_id,
        access_token="stored-access",
        refresh_token="stored-refresh",
        expires_at=time.time() + expires_in,
    )


@pytest.fixture
def store(tmp_path: Path) -> TokenFile:
    return TokenFile(tmp_path / "cfg" / "tokens.json")


# TokenFile


def test_token_file_is_owner_only_in_an_owner_only_directory(store: TokenFile) -> None:
    saved = tokens()
    store.save("local", saved)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.load("local") == saved


def test_a_wider_existing_file_is_replaced_by_an_owner_only_one(store: TokenFile) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{}")
    store.path.chmod(0o644)
    store.path.with_name("tokens.json.tmp").write_text("stale")
    store.path.with_name("tokens.json.tmp").chmod(0o666)
    store.save("local", tokens())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_profiles_are_kept_apart_and_forgotten_one_by_one(store: TokenFile) -> None:
    store.save("local", tokens("demo"))
    store.save("prod", tokens("alice"))
    store.forget("local")
    assert store.load("local") is None
    assert store.load("prod") is not None
    assert store.load("prod").username == "alice"  # type: ignore[union-attr]


def test_a_garbled_file_reads_as_logged_out(store: TokenFile) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("not json")
    assert store.load("local") is None
    store.path.write_text('{"local": {"username": 1}}')
    assert store.load("local") is None


def test_token_set_never_shows_its_tokens() -> None:
    shown = f"{tokens()!r} {tokens()!s}"
    assert "stored-access" not in shown
    assert "stored-refresh" not in shown


# Session decisions, with a double of Cognito


def test_no_tokens_logs_the_demo_user_in(store: TokenFile) -> None:
    cognito = IdentityProviderDouble()
    session = Session("local", config(), store, cognito)
    assert session.access_token().startswith("access-")
    assert cognito.calls == ["login demo"]
    assert store.load("local") is not None


def test_no_tokens_and_no_demo_user_is_not_logged_in(store: TokenFile) -> None:
    session = Session("prod", config(demo=False), store, IdentityProviderDouble())
    with pytest.raises(NotLoggedIn):
        session.access_token()


def test_a_fresh_token_is_used_as_it_is(store: TokenFile) -> None:
    cognito = IdentityProviderDouble()
    store.save("local", tokens())
    assert Session("local", config(), store, cognito).access_token() == "stored-access"
    assert cognito.calls == []


def test_a_token_about_to_expire_is_refreshed_first(store: TokenFile) -> None:
    cognito = IdentityProviderDouble()
    store.save("local", tokens(expires_in=REFRESH_MARGIN_SECONDS - 5))
    token = Session("local", config(), store, cognito).access_token()
    assert cognito.calls == ["refresh demo"]
    saved = store.load("local")
    assert saved is not None
    assert saved.access_token == token != "stored-access"
    assert saved.refresh_token == "stored-refresh"


def test_force_refresh_refreshes_a_valid_token(store: TokenFile) -> None:
    cognito = IdentityProviderDouble()
    store.save("local", tokens())
    assert Session("local", config(), store, cognito).access_token(force_refresh=True) != (
        "stored-access"
    )
    assert cognito.calls == ["refresh demo"]


def test_a_refused_refresh_logs_the_demo_user_in_again(store: TokenFile) -> None:
    cognito = IdentityProviderDouble(refuse_refresh=True)
    store.save("local", tokens("demo"))
    Session("local", config(), store, cognito).access_token(force_refresh=True)
    assert cognito.calls == ["refresh demo", "login demo"]


def test_a_refused_refresh_of_a_real_user_is_an_expired_session(store: TokenFile) -> None:
    cognito = IdentityProviderDouble(refuse_refresh=True)
    store.save("local", tokens("alice"))
    with pytest.raises(SessionExpired):
        Session("local", config(), store, cognito).access_token(force_refresh=True)
    # The demo user is not swapped in for alice, and her dead tokens are gone.
    assert cognito.calls == ["refresh alice"]
    assert store.load("local") is None


def test_tokens_of_another_app_client_are_ignored(store: TokenFile) -> None:
    cognito = IdentityProviderDouble()
    store.save("local", tokens(client_id="client-of-an-old-stack"))
    Session("local", config(), store, cognito).access_token()
    assert cognito.calls == ["login demo"]


def test_a_wrong_password_stores_nothing(store: TokenFile) -> None:
    session = Session("local", config(), store, IdentityProviderDouble())
    with pytest.raises(LoginFailed):
        session.login("demo", "wrong")
    assert store.load("local") is None


# CognitoIdentityProvider against moto's InitiateAuth


def provider(
    pool: CognitoPool, endpoint: str, client_id: str | None = None
) -> CognitoIdentityProvider:
    return CognitoIdentityProvider(REGION, client_id or pool.client_id, endpoint)


def test_password_login_returns_an_access_token_that_expires(
    cognito_pool: CognitoPool, aws: str
) -> None:
    got = provider(cognito_pool, aws).password_login(cognito_pool.username, cognito_pool.password)
    assert got.username == cognito_pool.username
    assert got.client_id == cognito_pool.client_id
    assert got.access_token.count(".") == 2  # a JWT
    assert got.refresh_token
    assert time.time() + 60 < got.expires_at <= time.time() + 3600


def test_login_is_unsigned_and_needs_no_aws_credentials(
    cognito_pool: CognitoPool, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name)
    got = provider(cognito_pool, aws).password_login(cognito_pool.username, cognito_pool.password)
    assert got.access_token


def test_refresh_keeps_the_refresh_token_and_issues_a_new_access_token(
    cognito_pool: CognitoPool, aws: str
) -> None:
    cognito = provider(cognito_pool, aws)
    first = cognito.password_login(cognito_pool.username, cognito_pool.password)
    second = cognito.refresh(first)
    assert second.access_token != first.access_token
    assert second.refresh_token == first.refresh_token


def test_a_revoked_refresh_token_is_an_expired_session(cognito_pool: CognitoPool, aws: str) -> None:
    cognito = provider(cognito_pool, aws)
    first = cognito.password_login(cognito_pool.username, cognito_pool.password)
    boto3.client("cognito-idp", region_name=REGION).admin_user_global_sign_out(
        UserPoolId=cognito_pool.pool_id, Username=cognito_pool.username
    )
    with pytest.raises(SessionExpired):
        cognito.refresh(first)


@pytest.mark.parametrize(("username", "password"), [("demo", "wrong"), ("nobody", "x")])
def test_bad_credentials_are_a_failed_login(
    cognito_pool: CognitoPool, aws: str, username: str, password: str
) -> None:
    with pytest.raises(LoginFailed, match="incorrect username or password"):
        provider(cognito_pool, aws).password_login(username, password)


def test_an_unknown_app_client_is_a_config_error(cognito_pool: CognitoPool, aws: str) -> None:
    with pytest.raises(ConfigError, match="app client"):
        provider(cognito_pool, aws, client_id="no-such-client").password_login("demo", "x")


def test_no_cognito_listening_is_unreachable(cognito_pool: CognitoPool) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceUnreachable) as caught:
        provider(cognito_pool, f"http://127.0.0.1:{port}").password_login("demo", "x")
    assert caught.value.url == f"http://127.0.0.1:{port}"
