"""API Gateway HTTP API events (payload format 2.0) as AWS sends them to the router's Lambda
(the context object is tests/doubles/lambda_context.py).

The event's shape follows AWS's documented example for HTTP API Lambda integrations (also
Powertools' tests/events/apiGatewayProxyV2Event.json): the JWT authorizer's verified claims
sit in requestContext.authorizer.jwt.claims, every value a string.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from tests.doubles.token_issuer import OWNER, OWNER_GROUP, TokenIssuerDouble, sub_of

API_ID = "a1b2c3d4e5"
SOURCE_IP = "203.0.113.7"


def gateway_claims(
    issuer: TokenIssuerDouble, user: str = OWNER, **overrides: str
) -> dict[str, str]:
    """What the JWT authorizer passes on for a Cognito access token: all strings, an array
    claim as "[a b]"."""
    now = int(time.time())
    claims = {
        "sub": sub_of(user),
        "iss": issuer.issuer,
        "client_id": issuer.client_id,
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": str(now),
        "exp": str(now + 3600),
        "iat": str(now),
        "jti": str(uuid.uuid4()),
        "username": user,
    }
    if user == OWNER:
        claims["cognito:groups"] = f"[{OWNER_GROUP}]"
    return claims | overrides


def http_api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    claims: dict[str, str] | None = None,
    source_ip: str = SOURCE_IP,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event for `method path`; with `claims` as if the route had
    the JWT authorizer, without them as if it had none (the `authorizer` key is absent)."""
    now = time.time()
    request_id = base64.b64encode(uuid.uuid4().bytes[:11]).decode()  # like "JKJaXmPLvHcESHA="
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "accept": "*/*",
            "content-length": "0",
            "host": f"{API_ID}.execute-api.eu-central-1.amazonaws.com",
            "user-agent": "tlfif-cli/0.1",
            "x-amzn-trace-id": f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}",
            "x-forwarded-for": source_ip,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        }
        | {name.lower(): value for name, value in (headers or {}).items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": f"{API_ID}.execute-api.eu-central-1.amazonaws.com",
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": "tlfif-cli/0.1",
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(pair.split("=", 1) for pair in query.split("&"))
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body)
        event["headers"]["content-type"] = "application/json"
        event["headers"]["content-length"] = str(len(raw.encode()))
        event["body"] = base64.b64encode(raw.encode()).decode() if base64_body else raw
    return event
