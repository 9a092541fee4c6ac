"""GET /ping and GET /queue-health as a client calls them: the two routes that take no token.

Apart from ApiClient because they need no credential and never go under a key's /api-key/
prefix: on AWS they are open routes with their own throttle (ADR 0021), so a smoke test's
probes do not spend the key route's one request a second.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from tlfif.client.api import CONNECT_TIMEOUT_SECONDS, READ_MARGIN_SECONDS, client_version
from tlfif.client.error_responses import error_from_response
from tlfif.client.errors import ServiceUnavailable, ServiceUnreachable, UnexpectedResponse
from tlfif.contracts import Ping, QueueHealth


class HealthClient:
    def __init__(self, api_url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.api_url,
            transport=transport,
            headers={"User-Agent": f"tlfif/{client_version()}"},
            timeout=httpx.Timeout(READ_MARGIN_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        )

    def __enter__(self) -> HealthClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def ping(self) -> Ping:
        response = self._get("/ping")
        if response.status_code != 200:
            raise error_from_response(response)
        return self._parse(Ping, response)

    def queue_health(self) -> QueueHealth:
        """Redis's state as the router sees it; a 503 that says so is an answer, not a
        failure (its body is the same QueueHealth, with `redis` not "ok")."""
        response = self._get("/queue-health")
        if response.status_code not in (200, 503):
            raise error_from_response(response)
        try:
            body = response.json()
            # The route writes its fields by alias (latencyMs); QueueHealth reads by name.
            if isinstance(body, dict) and "latencyMs" in body:
                body["latency_ms"] = body.pop("latencyMs")
            return QueueHealth.model_validate(body)
        except (ValueError, ValidationError):
            if response.status_code == 503:
                raise error_from_response(response) from None  # the gateway's own 503
            raise self._unexpected(response) from None

    def _get(self, path: str) -> httpx.Response:
        try:
            return self._http.get(path)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise ServiceUnreachable(
                f"cannot reach the TL-FIF API at {self.api_url}",
                service="the TL-FIF API",
                url=self.api_url,
            ) from None
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"GET {path} of the TL-FIF API failed ({type(exc).__name__})"
            ) from None

    def _parse(self, model: type[Ping], response: httpx.Response) -> Ping:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise self._unexpected(response) from None

    @staticmethod
    def _unexpected(response: httpx.Response) -> UnexpectedResponse:
        return UnexpectedResponse(
            f"GET {response.request.url.path} answered HTTP {response.status_code} with a "
            "body the contract does not describe"
        )
