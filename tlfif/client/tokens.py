"""The Cognito tokens a client holds, and the 0600 file that keeps them between runs.

One file per config directory, one entry per profile. Tokens are secrets: the file is
created owner-only before anything is written to it, and nothing here prints them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from tlfif.client.config import config_path
from tlfif.client.private_files import write_private_json

TOKEN_FILE_NAME = "tokens.json"


class TokenSet(BaseModel):
    """What InitiateAuth returned, with the expiry as a wall-clock time."""

    username: str
    client_id: str
    access_token: str
    refresh_token: str
    expires_at: float

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at - time.time() < seconds

    def __repr__(self) -> str:
        # Keeps tokens out of tracebacks, logs and test failure output.
        return f"TokenSet(username={self.username!r}, expires_at={self.expires_at:.0f})"

    __str__ = __repr__


def default_token_path() -> Path:
    """Beside the profile file, so TLFIF_CLI_CONFIG moves both."""
    return config_path().parent / TOKEN_FILE_NAME


class TokenFile:
    """tokens.json: {profile: TokenSet}, mode 0600 in a 0700 directory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_token_path()

    def load(self, profile: str) -> TokenSet | None:
        entry = self._read_all().get(profile)
        if entry is None:
            return None
        try:
            return TokenSet.model_validate(entry)
        except ValidationError:
            # A file from another version or hand-edited: logging in again repairs it.
            return None

    def save(self, profile: str, tokens: TokenSet) -> None:
        entries = self._read_all()
        entries[profile] = tokens.model_dump()
        self._write_all(entries)

    def forget(self, profile: str) -> None:
        entries = self._read_all()
        if entries.pop(profile, None) is not None:
            self._write_all(entries)

    def _read_all(self) -> dict[str, object]:
        try:
            entries = json.loads(self.path.read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def _write_all(self, entries: dict[str, object]) -> None:
        write_private_json(self.path, entries)
