"""openapi.yaml is the contract: valid OpenAPI 3.1, the same routes as the app, and every
documented response provoked from the real app and checked against its schema and headers.

The app runs on fakeredis (and on a closed port for the 503s), so this needs no server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from router.app import ROUTES
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.router_provocations import (
    provoke_chat_page,
    provoke_every_response,
    provoke_v1,
)

ROOT = Path(__file__).resolve().parents[2]
SPEC_URI = "urn:tlfif:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
UNKNOWN_ID = "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "openapi.yaml").read_text("utf-8"))
    return loaded


def test_document_is_valid_openapi_31_at_the_project_version(spec: dict[str, Any]) -> None:
    OpenAPIV31SpecValidator(spec).validate()
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["version"] == (ROOT / "VERSION").read_text("utf-8").strip()


def test_every_route_is_documented_and_every_documented_route_exists(
    spec: dict[str, Any],
) -> None:
    served = {
        (route.path, method.lower())
        for route in ROUTES
        for method in (route.methods or ())
        if method != "HEAD"  # Starlette adds HEAD to every GET
    }
    # The CORS middleware answers a preflight on every path, before any route.
    served |= {(route.path, "options") for route in ROUTES if isinstance(route, Route)}
    documented = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    assert served == documented


def pointer(*parts: str) -> str:
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "#" + quote("/" + "/".join(escaped))


class Contract:
    """Checks responses against the document and remembers which ones were seen."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self.seen: set[tuple[str, str, str]] = set()
        self.problems: list[str] = []

    def documented(self) -> set[tuple[str, str, str]]:
        return {
            (path, method, status)
            for path, operations in self.spec["paths"].items()
            for method, operation in operations.items()
            if method in HTTP_METHODS
            for status in operation["responses"]
        }

    def check(self, path: str, response: httpx.Response) -> None:
        """`path` is the documented template the request went to."""
        method, status = response.request.method.lower(), str(response.status_code)
        self.seen.add((path, method, status))
        where = ("paths", path, method, "responses", status)
        if status not in self.spec["paths"][path][method]["responses"]:
            self.problems.append(f"{method.upper()} {path} answered undocumented {status}")
            return
        self._check_against(where, f"{method.upper()} {path} {status}", response)

    def check_component(self, name: str, response: httpx.Response) -> None:
        self._check_against(("components", "responses", name), f"component {name}", response)

    def _check_against(self, where: tuple[str, ...], label: str, response: httpx.Response) -> None:
        where, documented = self._resolve(where)
        for header, spec in documented.get("headers", {}).items():
            _, header_spec = self._resolve(tuple(spec["$ref"][2:].split("/")))
            value = response.headers.get(header)
            if value is None:
                if header_spec.get("required"):
                    self.problems.append(f"{label}: header {header} missing")
                continue
            for error in Draft202012Validator(header_spec["schema"]).iter_errors(value):
                self.problems.append(f"{label}: header {header}: {error.message}")
        if "content" not in documented:
            if response.content:
                self.problems.append(f"{label}: a body where none is documented")
            return
        content_type = response.headers.get("content-type", "")
        media_type = content_type.split(";")[0]
        if media_type not in documented["content"] or (
            media_type == "application/json" and content_type != media_type
        ):
            self.problems.append(f"{label}: content-type {content_type}")
            return
        if media_type != "application/json":  # text (the chat page's files): not a schema
            if not response.content:
                self.problems.append(f"{label}: an empty {media_type} body")
            return
        schema = {"$ref": SPEC_URI + pointer(*where, "content", "application/json", "schema")}
        validator = Draft202012Validator(schema, registry=self.registry)
        for error in validator.iter_errors(response.json()):
            self.problems.append(f"{label}: {error.message} at {list(error.absolute_path)}")

    def _resolve(self, where: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, Any]]:
        node: Any = self.spec
        for part in where:
            node = node[part]
        if "$ref" in node:  # a local reference such as #/components/responses/NotFound
            return self._resolve(tuple(node["$ref"][2:].split("/")))
        return where, node


@pytest.mark.anyio
async def test_every_documented_response_is_provoked_and_matches(
    spec: dict[str, Any], token_issuer: TokenIssuerDouble
) -> None:
    contract = Contract(spec)
    await provoke_every_response(token_issuer, contract.check, contract.check_component, spec)
    await provoke_v1(token_issuer, contract.check, contract.check_component)
    await provoke_chat_page(token_issuer, contract.check)
    assert contract.problems == []
    assert contract.documented() - contract.seen == set()
