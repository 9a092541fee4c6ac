"""Where the OpenAI API key comes from: $OPENAI_API_KEY, the OS keyring, or ~/.tl-fif.ini.

The keyring package is the portable call: Windows Credential Manager, the macOS Keychain,
or the Secret Service on Linux. A machine without one (a headless box, CI) just has no key
there; that is never an error by itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Protocol

from gui.log import log_event

KEYRING_SERVICE = "tl-fif"
KEYRING_ENTRY = "openai_api_key"
ENVIRONMENT_VARIABLE = "OPENAI_API_KEY"


class Keyring(Protocol):
    """The part of the `keyring` module used here (a double in tests)."""

    def get_password(self, service_name: str, username: str) -> str | None: ...


def keyring_store_name(platform: str | None = None) -> str:
    """What the user's keyring is called on this platform, for messages."""
    platform = platform or sys.platform
    if platform == "win32":
        return "Windows Credential Manager"
    if platform == "darwin":
        return "the macOS Keychain"
    return "the Secret Service keyring (GNOME Keyring, KWallet)"


def from_keyring(store: Keyring | None = None) -> str | None:
    if store is None:
        import keyring

        store = keyring
    try:
        return store.get_password(KEYRING_SERVICE, KEYRING_ENTRY) or None
    except Exception as exc:
        # Backends raise their own errors (no D-Bus session, a locked keychain, ...),
        # not only keyring.errors.KeyringError: any of them means "no key there".
        log_event("keyring_unavailable", "OpenAI", error=type(exc).__name__)
        return None


def openai_api_key(
    from_settings: str,
    *,
    environ: Mapping[str, str] = os.environ,
    store: Keyring | None = None,
) -> str | None:
    """The first key found: environment, keyring, settings file."""
    return environ.get(ENVIRONMENT_VARIABLE) or from_keyring(store) or from_settings or None
