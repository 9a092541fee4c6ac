"""An API key as a client's credential (ADR 0027): a token source that hands out the key.

A key does not expire and has nothing to refresh, so where a token would be refreshed
after a 401 (the contract's "refresh, then retry once") the key is refused for good, in
one line naming where the key came from. On AWS a key is taken only under the /api-key/
prefix (the JWT authorizer refuses any other bearer), and the prefix works the same under
uvicorn, so a client with a key always calls `<api>/api-key/...`.
"""

from __future__ import annotations

from tlfif.api_key_contracts import looks_like_key
from tlfif.errors import ConfigError, TokenInvalid

# router/key_path.py's PREFIX: the routes without the authorizer, where keys go on AWS.
KEY_ROUTE_PREFIX = "/api-key"


class ApiKeyRefused(TokenInvalid):
    """The API answered 401 to the key: revoked, mistyped, or another deployment's."""

    code = "api_key_refused"

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message)
        self.source = source


class ApiKeyTokens:
    """A TokenSource (tlfif.client.api) for one API key; `source` names where it was set
    (TLFIF_CLI_API_KEY for the CLI), for the line a refused key gives."""

    def __init__(self, secret: str, *, source: str) -> None:
        if not looks_like_key(secret):
            # Never the value itself: it is a secret, even when malformed.
            raise ConfigError(f"{source} is not an API key (tlfif-sk-...): `tlfif keys create`")
        self._secret = secret
        self.source = source

    def access_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            raise ApiKeyRefused("the API refused the API key", source=self.source)
        return self._secret

    def __repr__(self) -> str:
        return f"ApiKeyTokens(source={self.source!r})"


def key_api_url(api_url: str) -> str:
    """Where a client with a key sends its requests."""
    return api_url.rstrip("/") + KEY_ROUTE_PREFIX
