"""Two words: the submitter of a job, and the owner of the deployment. Only the owner stops
the node and lifts holds; a plain user's prompt under the owner's manual hold waits for the
owner; and a job is the submitter's alone (anyone else gets the unknown id's 404)."""

from __future__ import annotations

import pytest

from tests.doubles.token_issuer import TokenIssuerDouble, sub_of
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness, router_on, router_settings
from tlfif.nodes import NodeRegistry

pytestmark = pytest.mark.anyio

UNKNOWN = "6f1c1d4e-8d1a-4f3e-9a51-0c2b1e7e4b11"


async def test_only_the_owner_stops_the_node(router: RouterHarness) -> None:
    refused = await router.client.post("/stop", headers=router.auth("bob"))
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": "only the deployment's owner may stop the node",
        "field": None,
    }
    assert "stop" not in router.node.calls
    assert (await router.client.post("/stop", headers=router.auth())).status_code == 200
    assert router.node.calls[-1] == "stop"


async def test_only_the_owner_lifts_the_budget_hold(router: RouterHarness) -> None:
    registry = NodeRegistry(router.redis)
    await registry.set_hold("budget", 3600)
    refused = await router.client.post("/budget/resume", headers=router.auth("bob"))
    assert refused.status_code == 403 and await registry.hold() == "budget"
    lifted = await router.client.post("/budget/resume", headers=router.auth())
    assert lifted.json() == {"lifted": True, "hold": None}


async def test_a_plain_users_prompt_under_the_manual_hold_waits_for_the_owner(
    router: RouterHarness,
) -> None:
    await router.client.post("/stop", headers=router.auth())
    queued = await router.infer({"prompt": "while the owner holds it"}, sub="bob")
    assert queued.status_code == 202 and queued.json()["hold"] == "manual"
    assert await NodeRegistry(router.redis).hold() == "manual"
    assert "start" not in router.node.calls
    # Bob's polls do not start it either.
    polled = await router.result(queued.json()["id"], sub="bob")
    assert polled.status_code == 202 and "start" not in router.node.calls
    # The owner's prompt lifts the hold and starts the node for both.
    mine = await router.infer({"prompt": "the owner's"})
    assert mine.status_code == 202 and "hold" not in mine.json()
    assert await NodeRegistry(router.redis).hold() is None
    assert router.node.calls.count("start") == 1


async def test_the_owner_may_be_named_by_sub_instead_of_group(
    redis_server: RedisServer, token_issuer: TokenIssuerDouble
) -> None:
    settings = router_settings(token_issuer, owner_group="", owner_subs=[sub_of("bob")])
    async with router_on(redis_server, token_issuer, settings=settings) as router:
        assert (await router.client.post("/stop", headers=router.auth("bob"))).status_code == 200
        alice = await router.client.post("/stop", headers=router.auth("alice"))
        assert alice.status_code == 403  # her group means nothing once the group is unset


async def test_a_job_is_its_submitters_alone(router: RouterHarness) -> None:
    job_id = (await router.infer({"prompt": "mine"}, sub="bob")).json()["id"]
    mine = await router.result(job_id, sub="bob")
    assert mine.status_code == 202
    for other in ("carol", "alice"):  # the owner too: owning the deployment is not reading
        theirs = await router.result(job_id, sub=other)
        unknown = await router.result(UNKNOWN, sub=other)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json()
        status = await router.client.get("/status", headers=router.auth(other))
        assert job_id not in status.json()["pending"]
    assert (await router.client.get("/status", headers=router.auth("bob"))).json()["pending"] == [
        job_id
    ]
