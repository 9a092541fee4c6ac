"""RouterApiDouble speaks openapi.yaml: a double that drifted from the contract would let
the CLI's tests pass against an API that does not exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.doubles.router_api_double import RouterApiDouble, error_response, gateway_unauthorized

ROOT = Path(__file__).resolve().parents[2]
SPEC_URI = "urn:tlfif:openapi"


@pytest.fixture(scope="module")
def registry() -> Registry[Any]:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text("utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, DRAFT202012)
    )
    return registry


def check(registry: Registry[Any], schema: str, response: httpx.Response) -> None:
    validator = Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema}"}, registry=registry
    )
    problems = [error.message for error in validator.iter_errors(response.json())]
    assert problems == [], f"{schema}: {problems}"


def test_every_answer_of_a_cold_start_matches_its_schema(registry: Registry[Any]) -> None:
    router = RouterApiDouble(node_error="InsufficientInstanceCapacity", start_error="capacity")
    auth = {"Authorization": "Bearer t"}
    with httpx.Client(transport=router.transport(), base_url="http://router.test") as http:
        accepted = http.post("/infer", json={"prompt": "hi"}, headers=auth)
        assert accepted.status_code == 202
        check(registry, "Accepted", accepted)
        job_id = accepted.json()["id"]
        check(registry, "Status", http.get("/status", headers=auth))
        for _ in router.phases:
            pending = http.get(f"/result/{job_id}", headers=auth)
            assert pending.status_code == 202
            check(registry, "Pending", pending)
        reply = http.get(f"/result/{job_id}", headers=auth)
        assert reply.status_code == 200
        check(registry, "Reply", reply)
        check(registry, "Stopping", http.post("/stop", headers=auth))
        check(registry, "Status", http.get("/status", headers=auth))
        unknown = http.get("/result/00000000-0000-4000-8000-000000000000", headers=auth)
        assert unknown.status_code == 404
        check(registry, "Error", unknown)


def test_canned_errors_match_the_error_schema(registry: Registry[Any]) -> None:
    check(registry, "Error", error_response(429, "throttled", "slow down", retry_after=3))
    # API Gateway's own 401 is outside the contract on purpose: clients must take it too.
    assert gateway_unauthorized().json() == {"message": "Unauthorized"}
