"""A client's login to one profile: hands out a valid access token, refreshing as needed.

The access token is refreshed before it expires and once more when the API answers 401
(the contract's "refresh, then retry once"). A profile with a demo user (the local stack)
logs itself in, so `tlfif infer` works without `tlfif login` there.
"""

from __future__ import annotations

import threading
from typing import Protocol

from tlfif.client.config import StackConfig
from tlfif.client.errors import NotLoggedIn, SessionExpired
from tlfif.client.tokens import TokenFile, TokenSet

# Long enough that a token read before a 25 s long poll is still valid when it arrives.
REFRESH_MARGIN_SECONDS = 120.0


class ChallengeAnswers(Protocol):
    """Who answers Cognito's challenges during a password login (the CLI asks its user)."""

    def new_password(self) -> str:
        """A new password for a user whose password was set by an administrator."""
        ...

    def pair_authenticator(self, secret: str, uri: str) -> None:
        """Show the secret (and its otpauth:// URI) to add to an authenticator app."""
        ...

    def authenticator_code(self) -> str:
        """The current six-digit code of the user's authenticator app."""
        ...


class IdentityProvider(Protocol):
    """Where tokens come from (Cognito's InitiateAuth; a double in tests)."""

    def password_login(
        self, username: str, password: str, answers: ChallengeAnswers | None = None
    ) -> TokenSet:
        """Raises LoginFailed, ServiceUnreachable, Throttled or ConfigError; a challenge
        (new password, MFA) is answered by `answers`, and without them is a LoginFailed."""
        ...

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """Raises SessionExpired when the refresh token is refused."""
        ...


class Session:
    """Tokens of one profile, kept in a TokenFile. Safe to share between threads (GUI)."""

    def __init__(
        self, profile: str, config: StackConfig, store: TokenFile, provider: IdentityProvider
    ) -> None:
        self.profile = profile
        self.config = config
        self.store = store
        self._provider = provider
        self._lock = threading.Lock()

    def login(
        self, username: str, password: str, answers: ChallengeAnswers | None = None
    ) -> TokenSet:
        tokens = self._provider.password_login(username, password, answers)
        self.store.save(self.profile, tokens)
        return tokens

    def logout(self) -> None:
        self.store.forget(self.profile)

    def current(self) -> TokenSet | None:
        """The stored tokens if they belong to this profile's app client."""
        tokens = self.store.load(self.profile)
        # `make up` creates a new pool each time: tokens of the old one are worthless.
        if tokens is None or tokens.client_id != self.config.client_id:
            return None
        return tokens

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A token to send now. `force_refresh` after a 401, since the API knows better."""
        with self._lock:
            tokens = self.current()
            if tokens is None:
                tokens = self._demo_login(NotLoggedIn("not logged in"))
            elif force_refresh or tokens.expires_within(REFRESH_MARGIN_SECONDS):
                tokens = self._refreshed(tokens)
            return tokens.access_token

    def _refreshed(self, tokens: TokenSet) -> TokenSet:
        try:
            fresh = self._provider.refresh(tokens)
        except SessionExpired as expired:
            self.store.forget(self.profile)
            # Only the demo user is logged in again silently: swapping a real user's
            # session for the demo user's would be a surprise.
            if tokens.username != self.config.demo_username:
                raise
            return self._demo_login(expired)
        self.store.save(self.profile, fresh)
        return fresh

    def _demo_login(self, otherwise: Exception) -> TokenSet:
        if not (self.config.demo_username and self.config.demo_password):
            raise otherwise
        return self.login(self.config.demo_username, self.config.demo_password)
