"""What every `tlfif` command gets: parsed arguments, settings, profile, session, consoles."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import httpx
from rich.console import Console

from tlfif.client.api import ApiClient, TokenSource
from tlfif.client.api_key import ApiKeyTokens, key_api_url
from tlfif.client.cognito import CognitoIdentityProvider
from tlfif.client.config import StackConfig, load_profile
from tlfif.client.failures import Where, describe
from tlfif.client.health import HealthClient
from tlfif.client.phase import JobPhase, phase_of_pending
from tlfif.client.session import Session
from tlfif.client.tokens import TokenFile
from tlfif.contracts import Reply
from tlfif_cli.progress import PhaseDisplay
from tlfif_cli.settings import CliSettings


@dataclass
class Context:
    """What a command needs: its arguments, settings, consoles, and the stack they name."""

    args: argparse.Namespace
    settings: CliSettings
    out: Console
    err: Console
    transport: httpx.BaseTransport | None = None
    job_id: str | None = None
    _config: StackConfig | None = field(default=None, repr=False)

    @property
    def profile(self) -> str:
        return str(self.args.profile or self.settings.profile)

    def config(self) -> StackConfig:
        if self._config is None:
            self._config = load_profile(self.profile)
        return self._config

    def session(self) -> Session:
        config = self.config()
        identity = CognitoIdentityProvider(
            config.region, config.client_id, config.cognito_endpoint_url
        )
        return Session(self.profile, config, TokenFile(), identity)

    @property
    def uses_api_key(self) -> bool:
        return self.settings.api_key is not None

    def client(self) -> ApiClient:
        """The API as this run's credential reaches it: TLFIF_CLI_API_KEY's key through the
        key routes when it is set, else the profile's login."""
        api_url = self.config().api_url
        tokens: TokenSource
        if self.settings.api_key is not None:
            secret = self.settings.api_key.get_secret_value()
            tokens = ApiKeyTokens(secret, source="TLFIF_CLI_API_KEY")
            api_url = key_api_url(api_url)
        else:
            tokens = self.session()
        return ApiClient(api_url, tokens, transport=self.transport)

    def health(self) -> HealthClient:
        return HealthClient(self.config().api_url, transport=self.transport)

    def where(self) -> Where:
        local = self._config is None or self._config.cognito_endpoint_url is not None
        return Where(local=local, job_id=self.job_id)

    def wait(self, api: ApiClient, job_id: str, first: JobPhase | None, started: float) -> Reply:
        """Long-poll with the live phase display on stderr."""
        with PhaseDisplay(self.err, started) as display:
            if first is not None:
                display.show(first)
            return api.wait_for_reply(
                job_id,
                on_pending=lambda pending: display.show(phase_of_pending(pending)),
                on_retry=lambda exc, pause: display.note(
                    f"{describe(exc, self.where()).line}; trying again in {pause:.0f} s"
                ),
                poll_seconds=self.settings.poll_seconds,
                timeout_seconds=self.settings.wait_timeout_seconds,
                min_interval_seconds=self.settings.min_poll_interval_seconds,
            )
