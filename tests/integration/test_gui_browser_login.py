"""The deployed stack's login (gui/browser_login.py): Cognito's hosted UI with PKCE and a
callback on a fixed loopback port, against CognitoHostedUiDouble (moto has no /oauth2
endpoints) and a BrowserDouble that follows the redirects as a browser would."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gui.browser_login import BrowserLogin
from gui.hosted_ui import HostedUiTokens
from gui.pkce import callback_url, challenge_of
from gui.settings import GuiSettings
from gui.wiring import aws_backend
from tests.doubles.browser_double import BrowserDouble
from tests.doubles.cognito_hosted_ui_double import CognitoHostedUiDouble
from tests.doubles.router_api_double import RouterApiDouble
from tests.fixtures.asgi_server import serve_asgi
from tlfif.client.errors import LoginFailed
from tlfif.contracts import Message

CLIENT_ID = "desktop-client"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HostedUi:
    url: str
    double: CognitoHostedUiDouble
    port: int
    browser: BrowserDouble
    notices: list[str]

    def login(
        self,
        *,
        port: int | None = None,
        timeout: float = 30.0,
        notify: Callable[[str], None] | None = None,
    ) -> BrowserLogin:
        endpoint = HostedUiTokens(self.url, CLIENT_ID, callback_url(port or self.port))
        return BrowserLogin(
            endpoint,
            hosted_ui=self.url,
            callback_port=port or self.port,
            open_browser=self.browser.open,
            notify=notify or self.notices.append,
            cancelled=threading.Event(),
            login_timeout=timeout,
        )


@pytest.fixture
def hosted_ui() -> Iterator[HostedUi]:
    port = free_port()
    double = CognitoHostedUiDouble(client_id=CLIENT_ID, callback_urls=[callback_url(port)])
    with serve_asgi(double.app(), "cognito-hosted-ui-double") as url:
        yield HostedUi(url, double, port, BrowserDouble(), [])


def test_a_login_goes_through_the_browser_with_pkce_and_lands_on_the_callback(
    hosted_ui: HostedUi,
) -> None:
    token = hosted_ui.login().access_token()
    [query] = hosted_ui.double.authorize_queries
    [form] = hosted_ui.double.token_forms
    # The verifier redeemed is the one whose S256 challenge the browser carried.
    assert query["code_challenge_method"] == "S256"
    assert challenge_of(form["code_verifier"]) == query["code_challenge"]
    assert form["grant_type"] == "authorization_code"
    assert (
        form["redirect_uri"]
        == query["redirect_uri"]
        == f"http://localhost:{hosted_ui.port}/callback"
    )
    # The browser went to the hosted UI, then to our callback, which thanked it.
    assert hosted_ui.browser.visited[1].startswith(
        f"http://localhost:{hosted_ui.port}/callback?code="
    )
    assert hosted_ui.browser.statuses == [302, 200]
    assert token.count(".") == 2
    assert hosted_ui.notices[-1] == "Logged in as you@example.com."


def test_tokens_are_refreshed_before_the_hour_runs_out_without_the_browser(
    hosted_ui: HostedUi,
) -> None:
    hosted_ui.double.expires_in = 60  # inside the refresh margin from the start
    login = hosted_ui.login()
    first = login.access_token()
    second = login.access_token()
    assert first != second
    assert [f["grant_type"] for f in hosted_ui.double.token_forms] == [
        "authorization_code",
        "refresh_token",
    ]
    assert len(hosted_ui.double.authorize_queries) == 1
    assert login.tokens is not None and login.tokens.refresh_token.startswith("refresh-")


def test_a_401_forces_a_refresh(hosted_ui: HostedUi) -> None:
    login = hosted_ui.login()
    first = login.access_token()
    assert login.access_token(force_refresh=True) != first
    assert hosted_ui.double.token_forms[-1]["grant_type"] == "refresh_token"


def test_a_refused_refresh_logs_in_again_in_the_browser(hosted_ui: HostedUi) -> None:
    login = hosted_ui.login()
    login.access_token()
    hosted_ui.double.refuse_refresh = True
    login.access_token(force_refresh=True)
    assert len(hosted_ui.double.authorize_queries) == 2


def test_without_a_browser_the_url_is_shown_to_open_by_hand(hosted_ui: HostedUi) -> None:
    hosted_ui.browser.refuse = True
    shown: list[str] = []

    def user_opens_it(text: str) -> None:
        shown.append(text)
        if "Open this address" in text:
            url = text.rsplit(": ", 1)[1]
            threading.Thread(target=BrowserDouble().open, args=(url,), daemon=True).start()

    assert hosted_ui.login(notify=user_opens_it).access_token()
    assert shown[0].startswith("Open this address in a browser to log in: http")


def test_a_cancelled_login_on_the_hosted_page_fails_clearly(hosted_ui: HostedUi) -> None:
    hosted_ui.double.deny = True
    with pytest.raises(LoginFailed, match="access_denied"):
        hosted_ui.login().access_token()


def test_a_callback_with_another_state_is_ignored(hosted_ui: HostedUi) -> None:
    real_open = hosted_ui.browser.open

    def forged_first(url: str) -> bool:
        BrowserDouble().open(f"http://localhost:{hosted_ui.port}/callback?code=evil&state=forged")
        return real_open(url)

    hosted_ui.browser.open = forged_first  # type: ignore[method-assign]
    hosted_ui.login().access_token()
    assert hosted_ui.double.token_forms[0]["code"] != "evil"


def test_a_callback_url_cognito_does_not_know_never_gets_a_code(hosted_ui: HostedUi) -> None:
    # Cognito matches callback URLs exactly, port included.
    with pytest.raises(LoginFailed, match="in time"):
        hosted_ui.login(port=free_port(), timeout=2.0).access_token()
    assert hosted_ui.browser.statuses == [400]
    assert hosted_ui.double.token_forms == []


def test_the_aws_backend_logs_in_through_the_browser_and_keeps_tokens_off_disk(
    hosted_ui: HostedUi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(tmp_path / "config.json"))
    settings = GuiSettings(
        endpoint="https://api.example.test",
        hosted_ui=hosted_ui.url,
        client_id=CLIENT_ID,
        callback_port=hosted_ui.port,
    )
    router = RouterApiDouble()
    backend = aws_backend(
        settings,
        notify=hosted_ui.notices.append,
        cancelled=threading.Event(),
        open_browser=hosted_ui.browser.open,
        transport=router.transport(),
    )
    backend.send_prompt([Message(role="user", content="hi")], idle_minutes=5, key="k")
    [token] = router.bearer_tokens("POST /infer")
    claims = json.loads(_b64(token.split(".")[1]))
    assert (claims["token_use"], claims["client_id"]) == ("access", CLIENT_ID)
    assert list(tmp_path.iterdir()) == []  # no tokens.json, no config written


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
