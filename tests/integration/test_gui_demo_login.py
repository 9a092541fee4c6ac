"""The local stack's login for the GUI: the demo user logged in by itself against moto's
Cognito, the tokens kept in memory only (no tokens.json written)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from jose import jwt

from gui.settings import GuiSettings
from gui.wiring import aws_backend
from tests.doubles.router_api_double import RouterApiDouble
from tests.fixtures.moto_server import CognitoPool
from tlfif.client.config import save_profile
from tlfif.contracts import Message


def test_the_demo_user_is_logged_in_by_itself_and_its_tokens_stay_in_memory(
    cognito_pool: CognitoPool, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))
    save_profile(
        cognito_pool.demo_profile("http://router.test", aws),
        "local",
    )
    router = RouterApiDouble()
    notices: list[str] = []
    backend = aws_backend(
        GuiSettings(),
        notify=notices.append,
        cancelled=threading.Event(),
        open_browser=lambda url: pytest.fail("the local stack needs no browser"),
        transport=router.transport(),
    )
    backend.send_prompt([Message(role="user", content="hi")], idle_minutes=5, key="k")
    backend.fleet()
    tokens = router.bearer_tokens("")
    assert len(set(tokens)) == 1  # logged in once, the token reused
    claims = jwt.get_unverified_claims(tokens[0])
    assert (claims["token_use"], claims["client_id"]) == ("access", cognito_pool.client_id)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
    assert json.loads((tmp_path / "config.json").read_text())["local"]["api_url"]
    backend.close()
