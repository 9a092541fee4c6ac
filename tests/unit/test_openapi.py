"""openapi.yaml is the contract: valid OpenAPI 3.1, the same routes as the app, and every
documented response provoked from the real app and checked against its schema and headers.

The app runs on fakeredis (and on a closed port for the 503s), so this needs no server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fakeredis
import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from router.app import ROUTES
from tests.doubles.cloud import NodeControlDouble
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.redis_servers import free_port
from tests.fixtures.router_app import RouterHarness, open_router, router_settings
from tlfif import keys
from tlfif.contracts import Job, Reply
from tlfif.cost import BilledSpend, CostStore
from tlfif.delivery import deliver
from tlfif.nodes import NodeRegistry
from tlfif.redis_conn import connect

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
        if response.headers.get("content-type") != "application/json":
            self.problems.append(f"{label}: content-type {response.headers.get('content-type')}")
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


@asynccontextmanager
async def fake_router(
    issuer: TokenIssuerDouble, node: NodeControlDouble | None = None, **settings: Any
) -> AsyncIterator[RouterHarness]:
    server = fakeredis.FakeServer()

    def client() -> Any:
        return fakeredis.FakeAsyncRedis(server=server, decode_responses=True)

    test_redis = client()
    async with open_router(
        issuer, client, test_redis, node=node, settings=router_settings(issuer, **settings)
    ) as harness:
        yield harness
    await test_redis.aclose()


async def provoke_open_routes(router: RouterHarness, check: Callable[..., None]) -> None:
    check("/ping", await router.client.get("/ping"))
    check("/queue-health", await router.client.get("/queue-health"))


async def provoke_infer(router: RouterHarness, check: Callable[..., None]) -> str:
    accepted = await router.infer({"prompt": "hello"})
    check("/infer", accepted)
    check("/infer", await router.infer({"prompt": "hello", "idle": 0}))
    check("/infer", await router.client.post("/infer", json={"prompt": "hello"}))
    queue = router.app.state.services.queue
    queue.user_pending_cap = 1  # the per-user pending cap, the one 429 the queue gives
    await router.infer({"prompt": "one"}, sub="carol")
    check("/infer", await router.infer({"prompt": "two"}, sub="carol"))
    queue.user_pending_cap = 0
    return str(accepted.json()["id"])


async def provoke_result(router: RouterHarness, check: Callable[..., None], job_id: str) -> None:
    path = "/result/{id}"
    check(path, await router.result(job_id))
    check(path, await router.result(job_id, wait=99))
    check(path, await router.client.get(f"/result/{job_id}"))
    check(path, await router.result(UNKNOWN_ID))
    job = Job.model_validate_json(await router.redis.get(keys.job(job_id)))
    await deliver(router.queue, router.replies, job.reply_key, Reply(id=job_id, status="done"))
    check(path, await router.result(job_id))
    expiring = (await router.infer({"prompt": "late"})).json()["id"]
    await router.redis.delete(keys.job(expiring))  # its TTL ran out before any node took it
    check(path, await router.result(expiring))


async def provoke_node_routes(router: RouterHarness, check: Callable[..., None]) -> None:
    check("/status", await router.client.get("/status", headers=router.auth()))
    check("/stop", await router.client.post("/stop", headers=router.auth()))
    check("/status", await router.client.get("/status", headers=router.auth()))
    check("/stop", await router.client.post("/stop"))
    check("/status", await router.client.get("/status"))
    await NodeRegistry(router.redis).set_hold("budget")
    check("/infer", await router.infer({"prompt": "over budget"}))


async def provoke_queue_down(issuer: TokenIssuerDouble, check: Callable[..., None]) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    async with open_router(issuer, lambda: connect(closed), test_redis) as router:
        check("/queue-health", await router.client.get("/queue-health"))
        check("/infer", await router.infer({"prompt": "hello"}))
        check("/result/{id}", await router.result(UNKNOWN_ID))
        check("/stop", await router.client.post("/stop", headers=router.auth()))
        check("/status", await router.client.get("/status", headers=router.auth()))
    await test_redis.aclose()


async def provoke_throttled(issuer: TokenIssuerDouble, check: Callable[..., None]) -> None:
    """One request a second per bucket: the second of each is over the limit."""
    tight = {"throttle_write_per_second": 1, "throttle_read_per_second": 1}
    async with fake_router(issuer, **tight) as router:
        for _ in range(2):
            check("/infer", await router.infer({"prompt": "hello"}))
        for _ in range(2):
            check("/status", await router.client.get("/status", headers=router.auth("bob")))
        check("/result/{id}", await router.result(UNKNOWN_ID, sub="bob"))
        await router.client.post("/stop", headers=router.auth("bob"))
        check("/stop", await router.client.post("/stop", headers=router.auth("bob")))


async def provoke_preflights(
    router: RouterHarness, check: Callable[..., None], spec: dict[str, Any]
) -> None:
    for path, operations in spec["paths"].items():
        if "options" not in operations:
            continue  # the route test above says which path lacks its preflight
        url = path.replace("{id}", UNKNOWN_ID)
        for origin in ("http://localhost:5173", "https://evil.example"):
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            check(path, await router.client.options(url, headers=headers))


async def provoke_cost_routes(issuer: TokenIssuerDouble, check: Callable[..., None]) -> None:
    """GET /cost before and after a figure exists; POST /budget/resume with and without a
    budget hold; both throttled and with the queue down."""
    async with fake_router(issuer) as router:
        auth = router.auth()
        check("/cost", await router.client.get("/cost", headers=auth))
        await CostStore(router.redis).save(
            BilledSpend(
                usd=12.34,
                eur=11.35,
                usd_to_eur=0.92,
                source="budgets",
                month="2025-11",
                as_of_ms=1763900000000,
                node_hourly_usd=0.658,
            )
        )
        check("/cost", await router.client.get("/cost", headers=auth))
        check("/cost", await router.client.get("/cost"))
        await NodeRegistry(router.redis).set_hold("budget", 3600)
        for _ in range(2):  # lifted, then nothing left to lift
            check("/budget/resume", await router.client.post("/budget/resume", headers=auth))
        check("/budget/resume", await router.client.post("/budget/resume"))
    tight = {"throttle_write_per_second": 1, "throttle_read_per_second": 1}
    async with fake_router(issuer, **tight) as router:
        for _ in range(2):
            check("/cost", await router.client.get("/cost", headers=router.auth()))
            check(
                "/budget/resume", await router.client.post("/budget/resume", headers=router.auth())
            )
    closed = f"redis://127.0.0.1:{free_port()}/0"
    test_redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    async with open_router(issuer, lambda: connect(closed), test_redis) as router:
        check("/cost", await router.client.get("/cost", headers=router.auth()))
        check("/budget/resume", await router.client.post("/budget/resume", headers=router.auth()))
    await test_redis.aclose()


@pytest.mark.anyio
async def test_every_documented_response_is_provoked_and_matches(
    spec: dict[str, Any], token_issuer: TokenIssuerDouble
) -> None:
    issuer = token_issuer
    contract = Contract(spec)
    async with fake_router(issuer) as router:
        await provoke_open_routes(router, contract.check)
        job_id = await provoke_infer(router, contract.check)
        await provoke_result(router, contract.check, job_id)
        await provoke_node_routes(router, contract.check)
        await provoke_preflights(router, contract.check, spec)
        contract.check_component("NotFound", await router.client.get("/no-such-route"))
        contract.check_component("MethodNotAllowed", await router.client.delete("/infer"))
    refused = NodeControlDouble(refuse_start="InsufficientInstanceCapacity")
    async with fake_router(issuer, node=refused) as router:
        node_error = await router.infer({"prompt": "hello"})
        assert "node_error" in node_error.json()
        contract.check("/infer", node_error)
        start_error = await router.client.get("/status", headers=router.auth())
        assert start_error.json()["start_error"] is not None
        contract.check("/status", start_error)
    await provoke_queue_down(issuer, contract.check)
    await provoke_throttled(issuer, contract.check)
    await provoke_cost_routes(issuer, contract.check)
    assert contract.problems == []
    assert contract.documented() - contract.seen == set()
