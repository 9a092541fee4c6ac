"""An IMDSv2 endpoint for the local stack, so the watcher's self-stop runs the real path.

moto's own metadata stub answers without a session token; this one behaves as AWS does
with IMDSv2 required (HttpTokens=required): a token from PUT /latest/api/token, then every
metadata GET carries it, else 401.

    python -m local.imds --instance-id i-0123456789abcdef0 --region eu-central-1 --port 1338
"""

from __future__ import annotations

import argparse
import secrets
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
# AWS accepts a token TTL from 1 second to 6 hours.
MAX_TOKEN_TTL_SECONDS = 21600


class ImdsEmulator:
    """Serves one instance's id and region behind IMDSv2 session tokens."""

    def __init__(self, instance_id: str, region: str) -> None:
        self._metadata = {"instance-id": instance_id, "placement/region": region}
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.app = Starlette(
            routes=[
                Route("/latest/api/token", self._issue_token, methods=["PUT"]),
                Route("/latest/meta-data/{path:path}", self._read_metadata, methods=["GET"]),
            ]
        )

    async def _issue_token(self, request: Request) -> Response:
        # AWS refuses token requests that passed through a proxy, so a token cannot leak
        # through a misconfigured forwarder.
        if "x-forwarded-for" in request.headers:
            return _text(403, "Forbidden")
        ttl_text = request.headers.get(TOKEN_TTL_HEADER)
        if ttl_text is None or not ttl_text.strip().isdigit():
            return _text(400, "Bad Request")
        ttl = int(ttl_text)
        if not 1 <= ttl <= MAX_TOKEN_TTL_SECONDS:
            return _text(400, "Bad Request")
        now = time.monotonic()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        token = secrets.token_urlsafe(42)
        self._tokens[token] = now + ttl
        return PlainTextResponse(token, headers={TOKEN_TTL_HEADER: str(ttl)})

    async def _read_metadata(self, request: Request) -> Response:
        token = request.headers.get(TOKEN_HEADER, "")
        expiry = self._tokens.get(token)
        if expiry is None or expiry <= time.monotonic():
            return _text(401, "Unauthorized")
        value = self._metadata.get(request.path_params["path"].strip("/"))
        if value is None:
            return _text(404, "Not Found")
        return PlainTextResponse(value)


def _text(status: int, reason: str) -> Response:
    return PlainTextResponse(reason, status_code=status)


def serve(instance_id: str, region: str, host: str = "127.0.0.1", port: int = 1338) -> None:
    """Runs the endpoint under uvicorn until interrupted (loopback only by default)."""
    emulator = ImdsEmulator(instance_id, region)
    uvicorn.run(emulator.app, host=host, port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description="IMDSv2 endpoint for the local stack")
    parser.add_argument("--instance-id", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1338)
    args = parser.parse_args()
    serve(args.instance_id, args.region, args.host, args.port)


if __name__ == "__main__":
    main()
