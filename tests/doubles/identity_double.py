"""Doubles of where a client's tokens come from: Cognito (IdentityProviderDouble) and a
Session (TokenSourceDouble). The real protocol is tested against moto; these serve tests
about the decisions around it (when to refresh, when to log in again).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from tlfif.client.errors import LoginFailed, SessionExpired
from tlfif.client.session import ChallengeAnswers
from tlfif.client.tokens import TokenSet


@dataclass
class IdentityProviderDouble:
    """Accepts one password; issues numbered tokens; can refuse refresh tokens."""

    client_id: str = "client-double"
    passwords: dict[str, str] = field(default_factory=lambda: {"demo": "demo-pw"})
    expires_in: float = 3600.0
    refuse_refresh: bool = False
    calls: list[str] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def password_login(
        self, username: str, password: str, answers: ChallengeAnswers | None = None
    ) -> TokenSet:
        self.calls.append(f"login {username}")
        if self.passwords.get(username) != password:
            raise LoginFailed("incorrect username or password")
        return self._issue(username, f"refresh-{next(self._serial)}")

    def refresh(self, tokens: TokenSet) -> TokenSet:
        self.calls.append(f"refresh {tokens.username}")
        if self.refuse_refresh:
            raise SessionExpired("the session expired (refresh token refused)")
        return self._issue(tokens.username, tokens.refresh_token)

    def _issue(self, username: str, refresh_token: str) -> TokenSet:
        return TokenSet(
            username=username,
            client_id=self.client_id,
            access_token=f"access-{next(self._serial)}",
            refresh_token=refresh_token,
            expires_at=time.time() + self.expires_in,
        )


@dataclass
class TokenSourceDouble:
    """Hands out access-0, access-1, ...: a new one for each forced refresh."""

    refreshes: int = 0

    def access_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
        return f"access-{self.refreshes}"
