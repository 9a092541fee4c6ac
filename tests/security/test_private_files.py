"""The client's files: the profiles (which may hold the demo password) and the tokens are 0600
in a 0700 folder, and a folder that exists wider is tightened."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tlfif.client.config import StackConfig, save_profile
from tlfif.client.tokens import TokenFile, TokenSet


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_profiles_and_tokens_are_for_their_user_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "config" / "tlfif"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)  # as 0.7 and before left it
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(folder / "config.json"))
    config = StackConfig(
        api_url="http://x", region="eu-central-1", user_pool_id="p", client_id="c",
        demo_username="demo", demo_password="Demo-passw0rd!",
    )  # fmt: skip
    path = save_profile(config)
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)
    tokens = TokenFile(folder / "tokens.json")
    tokens.save(
        "local",
        TokenSet(
            username="demo", client_id="c", access_token="a", refresh_token="r", expires_at=0.0
        ),
    )
    assert mode(folder / "tokens.json") == 0o600
