"""`tlfif login` on a pool that requires MFA (prod's), against moto's Cognito with TOTP checks
on: a user the owner created sets a new password, pairs an authenticator app (MFA_SETUP),
and gives its code; every later sign-in asks for a code (SOFTWARE_TOKEN_MFA). A wrong code
is one line, not a traceback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.fixtures.moto_server import REGION
from tlfif.client.config import StackConfig, save_profile
from tlfif_cli import main
from tlfif_cli.errors import ExitCode

USER = "owner@example.com"
TEMPORARY = "Temporary-passw0rd!"
CHOSEN = "Chosen-passw0rd!"


def totp(secret: str, at: float | None = None) -> str:
    """An authenticator app's code (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits): the double
    of the phone the owner pairs."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def fresh_totp(secret: str) -> str:
    """A code that stays current for the next few seconds: moto checks the current 30 s
    step only, so a code made just before a step ends would be stale when it arrives."""
    left = 30 - time.time() % 30
    if left < 5:
        time.sleep(left + 0.1)
    return totp(secret)


@dataclass(frozen=True)
class Run:
    code: int
    err: str


@pytest.fixture
def mfa_pool(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> StackConfig:
    """A pool as prod's: MFA ON with TOTP; one user with a temporary password; a profile."""
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool_id = cognito.create_user_pool(PoolName="tl-fif-prod-like")["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="tl-fif-cli",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id, Username=USER, TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS"
    )
    for name in [n for n in os.environ if n.startswith("TLFIF_CLI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))
    config = StackConfig(
        api_url="http://127.0.0.1:9",  # login talks to Cognito only
        region=REGION,
        user_pool_id=pool_id,
        client_id=client_id,
        cognito_endpoint_url=aws,
    )
    save_profile(config)
    return config


@pytest.fixture
def login(
    mfa_pool: StackConfig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Run]:
    def run(*answers: str) -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{a}\n" for a in answers)))
        code = main(["login", "--username", USER, "--password-stdin"])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return Run(code, captured.err)

    return run


def secret_shown(err: str) -> str:
    words = err.split()
    return words[words.index("secret") + 1]


def test_first_sign_in_sets_a_password_pairs_an_app_and_later_ones_ask_for_its_code(
    login: Callable[..., Run], mfa_pool: StackConfig
) -> None:
    from moto.cognitoidp.models import COGNITO_TOTP_MFA_SECRET  # what moto pairs every app with

    first = login(TEMPORARY, CHOSEN, fresh_totp(COGNITO_TOTP_MFA_SECRET))
    assert first.code == ExitCode.OK, first.err
    assert "new password" in first.err
    assert secret_shown(first.err) == COGNITO_TOTP_MFA_SECRET
    assert f"otpauth://totp/TL-FIF%3A{USER.replace('@', '%40')}?secret=" in first.err
    assert "logged in as" in first.err

    cognito = boto3.client("cognito-idp", region_name=REGION)
    cognito.admin_set_user_mfa_preference(
        UserPoolId=mfa_pool.user_pool_id,
        Username=USER,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    again = login(CHOSEN, fresh_totp(COGNITO_TOTP_MFA_SECRET))
    assert again.code == ExitCode.OK, again.err
    assert "secret" not in again.err  # paired already: only the code


def test_a_wrong_code_is_refused_in_one_line(login: Callable[..., Run]) -> None:
    from moto.cognitoidp.models import COGNITO_TOTP_MFA_SECRET

    stale = totp(COGNITO_TOTP_MFA_SECRET, at=time.time() - 3600)
    run = login(TEMPORARY, CHOSEN, stale)
    assert run.code == ExitCode.AUTH
    (line,) = [text for text in run.err.splitlines() if text.startswith("tlfif:")]
    assert "login failed: Cognito refused the answer" in line


def test_answers_that_run_out_say_how_to_give_them(login: Callable[..., Run]) -> None:
    run = login(TEMPORARY)  # no new password on stdin
    assert run.code == ExitCode.USAGE
    assert "give each answer on a line of its own" in run.err
