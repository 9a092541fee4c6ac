"""BrowserLogin: the deployed stack's login, Cognito's hosted UI in the user's browser.

Authorization code with PKCE, the browser sent back to the fixed loopback callback. The
tokens live in this object only (seed 1.2: never on disk) and are refreshed with the
refresh token before the access token's hour runs out; a refused refresh logs in again.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from gui.callback_server import CallbackServer
from gui.hosted_ui import HostedUiTokens
from gui.pkce import authorize_url, new_pkce
from tlfif.client.errors import SessionExpired
from tlfif.client.session import REFRESH_MARGIN_SECONDS
from tlfif.client.tokens import TokenSet

LOGIN_TIMEOUT_SECONDS = 300.0


class BrowserLogin:
    """A TokenSource (tlfif.client.api) backed by the hosted UI. Thread-safe."""

    def __init__(
        self,
        endpoint: HostedUiTokens,
        *,
        hosted_ui: str,
        callback_port: int,
        open_browser: Callable[[str], bool],
        notify: Callable[[str], None],
        cancelled: threading.Event,
        login_timeout: float = LOGIN_TIMEOUT_SECONDS,
    ) -> None:
        self._endpoint = endpoint
        self._hosted_ui = hosted_ui
        self._port = callback_port
        self._open_browser = open_browser
        self._notify = notify
        self._cancelled = cancelled
        self._login_timeout = login_timeout
        self._tokens: TokenSet | None = None
        self._lock = threading.Lock()

    @property
    def tokens(self) -> TokenSet | None:
        return self._tokens

    def access_token(self, *, force_refresh: bool = False) -> str:
        with self._lock:
            if self._tokens is None:
                self._tokens = self.login()
            elif force_refresh or self._tokens.expires_within(REFRESH_MARGIN_SECONDS):
                try:
                    self._tokens = self._endpoint.refresh(self._tokens)
                except SessionExpired:
                    self._tokens = self.login()
            return self._tokens.access_token

    def login(self) -> TokenSet:
        pkce = new_pkce()
        state = secrets.token_urlsafe(24)
        url = authorize_url(
            self._hosted_ui,
            client_id=self._endpoint.client_id,
            redirect_uri=self._endpoint.redirect_uri,
            state=state,
            challenge=pkce.challenge,
        )
        # Listening before the browser opens: a fast redirect must find the port open.
        with CallbackServer(self._port) as server:
            if self._open_browser(url):
                self._notify("Log in in the browser window that just opened.")
            else:
                self._notify(f"Open this address in a browser to log in: {url}")
            code = server.wait_for_code(
                state, timeout=self._login_timeout, cancelled=self._cancelled
            )
        tokens = self._endpoint.exchange(code, pkce.verifier)
        self._notify(f"Logged in as {tokens.username or 'you'}.")
        return tokens
