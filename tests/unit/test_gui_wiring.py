"""gui/wiring.py: which login and which server each backend gets from the settings.
(The logins themselves run against moto and the hosted-UI double in tests/integration.)"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx2
import pytest

from gui.settings import GuiSettings
from gui.wiring import aws_backend, openai_backend
from tests.doubles.openai_api_double import OpenAiApiDouble
from tlfif.contracts import Message
from tlfif.errors import ConfigError


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.json"
    monkeypatch.setenv("TLFIF_CLI_CONFIG", str(path))
    return path


def write_profile(path: Path, **fields: str) -> None:
    base = {"api_url": "http://router.test", "user_pool_id": "pool", "client_id": "cli"}
    path.write_text(json.dumps({"prod": {**base, **fields}}), "utf-8")


def build(settings: GuiSettings) -> None:
    aws_backend(settings, notify=print, cancelled=threading.Event())


def test_without_any_stack_it_says_to_run_make_up(profiles: Path) -> None:
    with pytest.raises(ConfigError, match="make up"):
        build(GuiSettings())


def test_a_profile_without_a_demo_user_needs_the_hosted_ui(profiles: Path) -> None:
    write_profile(profiles)
    with pytest.raises(ConfigError, match=r"hosted_ui and client_id"):
        build(GuiSettings(profile="prod"))


def test_the_hosted_ui_needs_the_desktop_client_id(profiles: Path) -> None:
    with pytest.raises(ConfigError, match="client_id"):
        build(GuiSettings(endpoint="https://api.test", hosted_ui="https://auth.test"))


def test_a_deployed_stack_can_be_described_by_the_settings_file_alone(profiles: Path) -> None:
    settings = GuiSettings(
        endpoint="https://api.test", hosted_ui="https://auth.test", client_id="desktop"
    )
    backend = aws_backend(settings, notify=print, cancelled=threading.Event())
    backend.close()  # built without a profile and without logging in yet


def test_the_openai_backend_takes_base_url_and_model_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = GuiSettings(base_url="http://local-llm.test/v1", model="gemma", api_key="sk-ini")
    double = OpenAiApiDouble(api_key="sk-ini", models=("gemma",))
    http = httpx2.Client(transport=double.transport())
    backend = openai_backend(settings, keyring=_NoKeyring(), http_client=http)
    assert (backend.base_url, backend.model) == ("http://local-llm.test/v1", "gemma")
    ticket = backend.send_prompt([Message(role="user", content="hi")], idle_minutes=5, key="k")
    backend.get_response(ticket, wait_seconds=1)
    assert double.authorizations == ["Bearer sk-ini"]


class _NoKeyring:
    def get_password(self, service_name: str, username: str) -> str | None:
        return None
