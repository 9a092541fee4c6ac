"""Builds each backend from the settings: which stack, which login, which server.

AWS TinyLlama: the stack profile (`make up` writes `local`), its demo user logged in by
itself; or, with [aws] hosted_ui set, a deployed stack's Cognito hosted UI in the browser.
OpenAI: the base URL and model from the settings, the key from gui.api_keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from gui.api_keys import Keyring, openai_api_key
from gui.aws_backend import AwsTinyLlamaClient
from gui.browser_login import BrowserLogin
from gui.desktop import open_in_browser
from gui.hosted_ui import HostedUiTokens
from gui.memory_tokens import MemoryTokenStore
from gui.openai_backend import OpenAiApiClient
from gui.pkce import callback_url
from gui.settings import GuiSettings
from tlfif.client.api import ApiClient, TokenSource
from tlfif.client.config import StackConfig, load_profile
from tlfif.client.session import Session
from tlfif.errors import ConfigError


def aws_backend(
    settings: GuiSettings,
    *,
    notify: Callable[[str], None],
    cancelled: threading.Event,
    open_browser: Callable[[str], bool] = open_in_browser,
    transport: httpx.BaseTransport | None = None,
) -> AwsTinyLlamaClient:
    config = _profile(settings)
    api_url = settings.endpoint or (config.api_url if config else "")
    if not api_url:
        raise ConfigError("no API URL: set [aws] endpoint, or run `make up` for a local stack")
    tokens: TokenSource
    if settings.hosted_ui:
        client_id = settings.client_id or (config.client_id if config else "")
        if not client_id:
            raise ConfigError("[aws] hosted_ui is set but client_id (the desktop client) is not")
        endpoint = HostedUiTokens(
            settings.hosted_ui, client_id, callback_url(settings.callback_port)
        )
        tokens = BrowserLogin(
            endpoint,
            hosted_ui=settings.hosted_ui,
            callback_port=settings.callback_port,
            open_browser=open_browser,
            notify=notify,
            cancelled=cancelled,
        )
        local = False
    else:
        if config is None or not (config.demo_username and config.demo_password):
            raise ConfigError(
                f"profile {settings.profile!r} has no demo user: for a deployed stack set "
                "[aws] hosted_ui and client_id in the settings file to log in in the browser"
            )
        tokens = _demo_session(settings.profile, config)
        local = config.cognito_endpoint_url is not None
    return AwsTinyLlamaClient(ApiClient(api_url, tokens, transport=transport), local=local)


def _profile(settings: GuiSettings) -> StackConfig | None:
    try:
        return load_profile(settings.profile)
    except ConfigError:
        # A deployed stack may be described by the settings file alone.
        if settings.endpoint and settings.hosted_ui:
            return None
        raise


def _demo_session(profile: str, config: StackConfig) -> Session:
    # Imported here: boto3 (behind the Cognito adapter) takes a while to import.
    from tlfif.client.cognito import CognitoIdentityProvider

    identity = CognitoIdentityProvider(config.region, config.client_id, config.cognito_endpoint_url)
    # Tokens in memory only, as for the browser login (seed 1.2).
    return Session(profile, config, MemoryTokenStore(), identity)


def openai_backend(
    settings: GuiSettings, *, keyring: Keyring | None = None, http_client: Any = None
) -> OpenAiApiClient:
    return OpenAiApiClient(
        base_url=settings.base_url,
        model=settings.model,
        api_key=lambda: openai_api_key(settings.api_key, store=keyring),
        http_client=http_client,
    )
