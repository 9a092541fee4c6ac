"""gui/api_keys.py: the OpenAI key from the environment, the OS keyring or the ini file."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from gui.api_keys import KEYRING_ENTRY, KEYRING_SERVICE, keyring_store_name, openai_api_key


@dataclass
class KeyringDouble:
    stored: dict[tuple[str, str], str] = field(default_factory=dict)
    error: Exception | None = None

    def get_password(self, service_name: str, username: str) -> str | None:
        if self.error is not None:
            raise self.error
        return self.stored.get((service_name, username))


def test_the_environment_comes_first() -> None:
    store = KeyringDouble({(KEYRING_SERVICE, KEYRING_ENTRY): "from-keyring"})
    key = openai_api_key("from-ini", environ={"OPENAI_API_KEY": "from-env"}, store=store)
    assert key == "from-env"


def test_then_the_keyring_then_the_settings_file() -> None:
    store = KeyringDouble({(KEYRING_SERVICE, KEYRING_ENTRY): "from-keyring"})
    assert openai_api_key("from-ini", environ={}, store=store) == "from-keyring"
    assert openai_api_key("from-ini", environ={}, store=KeyringDouble()) == "from-ini"
    assert openai_api_key("", environ={}, store=KeyringDouble()) is None


def test_a_machine_without_a_usable_keyring_just_has_no_key_there() -> None:
    # What the Secret Service backend raises without a D-Bus session is not a KeyringError.
    store = KeyringDouble(error=RuntimeError("no D-Bus session"))
    assert openai_api_key("from-ini", environ={}, store=store) == "from-ini"


def test_the_real_keyring_module_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, user: f"{service}/{user}")
    assert openai_api_key("", environ={}) == f"{KEYRING_SERVICE}/{KEYRING_ENTRY}"


@pytest.mark.parametrize(
    ("platform", "name"),
    [("win32", "Credential Manager"), ("darwin", "Keychain"), ("linux", "Secret Service")],
)
def test_the_keyring_is_named_as_each_platform_calls_it(platform: str, name: str) -> None:
    assert name in keyring_store_name(platform)
