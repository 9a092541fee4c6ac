"""Every response the contract test provokes, against the bytes recorded before the reshape
of issue 11 (tests/golden/router_responses.json): status, the headers clients act on, and
the body byte for byte, with only what changes from run to run masked (ids, clocks).

Re-record, only for a change of the wire that is meant (and documented in openapi.yaml and
CHANGELOG.md): GOLDEN_RECORD=1 pytest tests/unit/test_router_golden.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.router_provocations import provoke_every_response

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "router_responses.json"
# What a client acts on besides the body; X-Request-Id is new per request, so only its
# presence is recorded.
HEADERS = (
    "content-type", "retry-after", "www-authenticate", "vary", "access-control-allow-origin",
    "access-control-allow-methods", "access-control-allow-headers", "access-control-max-age",
    "access-control-expose-headers",
)  # fmt: skip
VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b1[0-9]{12}\b"), "<ms>"),  # epoch milliseconds
    (re.compile(r'("age_seconds":\s*)[0-9]+'), r"\1<s>"),
    (re.compile(r'("running_seconds":\s*)[0-9]+'), r"\1<s>"),
    (re.compile(r'("latencyMs":\s*)[0-9.]+'), r"\1<ms>"),
    (re.compile(r'("queued_ms":\s*)[0-9]+'), r"\1<ms>"),
    (re.compile(r"127\.0\.0\.1(:|', )[0-9]+"), r"127.0.0.1\1<port>"),  # the closed port
    (re.compile(r"tlfif-sk-[A-Za-z0-9_-]{43}"), "<api key>"),  # a new key's secret
    (re.compile(r"whsec_[A-Za-z0-9_-]{43}"), "<webhook secret>"),  # a new webhook secret
]


def masked(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def record(label: str, response: httpx.Response) -> dict[str, Any]:
    headers = {name: response.headers[name] for name in HEADERS if name in response.headers}
    return {
        "request": f"{response.request.method} {masked(response.request.url.path)}",
        "label": label,
        "status": response.status_code,
        "headers": headers,
        "request_id": "x-request-id" in response.headers,
        "body": masked(response.content.decode("utf-8")),
    }


@pytest.mark.anyio
async def test_every_response_is_what_it_was_before_the_reshape(
    token_issuer: TokenIssuerDouble,
) -> None:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text("utf-8"))
    seen: list[dict[str, Any]] = []
    await provoke_every_response(
        token_issuer,
        lambda path, response: seen.append(record(path, response)),
        lambda name, response: seen.append(record(f"component {name}", response)),
        spec,
    )
    if os.environ.get("GOLDEN_RECORD") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n", "utf-8")
    golden = json.loads(GOLDEN.read_text("utf-8"))
    assert len(seen) == len(golden)
    for now, then in zip(seen, golden, strict=True):
        assert now == then, f"{then['request']} ({then['label']}) changed"
