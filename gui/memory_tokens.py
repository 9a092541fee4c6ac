"""A TokenFile that keeps tokens in memory only, for the GUI's Session (seed 1.2)."""

from __future__ import annotations

import threading
from pathlib import Path

from tlfif.client.tokens import TokenFile, TokenSet


class MemoryTokenStore(TokenFile):
    def __init__(self) -> None:
        super().__init__(Path("<memory>"))
        self._tokens: dict[str, TokenSet] = {}
        self._lock = threading.Lock()

    def load(self, profile: str) -> TokenSet | None:
        with self._lock:
            return self._tokens.get(profile)

    def save(self, profile: str, tokens: TokenSet) -> None:
        with self._lock:
            self._tokens[profile] = tokens

    def forget(self, profile: str) -> None:
        with self._lock:
            self._tokens.pop(profile, None)
