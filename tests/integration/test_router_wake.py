"""POST /wake on a real redis-server (ADR 0029): the router with the node double, and a
watcher in-process on the same Redis for what the wake's idle minutes do on the node."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.doubles.token_issuer import sub_of
from tests.fixtures.engine import RunningEngineDouble
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.router_app import RouterHarness
from tests.fixtures.watcher_node import until, watcher
from tlfif import keys
from tlfif.contracts import WakeNote
from tlfif.nodes import NodeRegistry

pytestmark = pytest.mark.anyio


async def wake(router: RouterHarness, body: object = None, sub: str = "alice") -> dict[str, object]:
    response = await router.client.post("/wake", json=body, headers=router.auth(sub))
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def test_a_wake_starts_a_stopped_node_and_queues_nothing(router: RouterHarness) -> None:
    # No body at all takes the default idle minutes.
    response = await router.client.post("/wake", headers=router.auth("bob"))
    assert response.status_code == 200, response.text
    assert response.json() == {"node": "starting", "idle": 5, "eta": 90, "started": True}
    assert router.node.calls == ["state", "start"] and await router.queue.depth() == 0
    note = await NodeRegistry(router.redis).wake_note()
    assert note is not None and note.idle == 5
    # The note lasts the boot and the idle minutes (cold estimate 90 s + 5 min).
    assert 380 <= await router.redis.ttl(keys.WAKE) <= 390
    # A second wake while it starts sends nothing more to EC2.
    assert (await wake(router, {"idle": 2}))["node"] == "starting"
    assert router.node.calls.count("start") == 1
    assert router.metrics.counts["Wakes"] == 2


async def test_a_wake_on_a_ready_node_lasts_its_idle_minutes_only(router: RouterHarness) -> None:
    await NodeRegistry(router.redis).beat("i-node", "ready", ttl_seconds=30)
    assert await wake(router, {"idle": 1}) == {
        "node": "ready",
        "idle": 1,
        "eta": 5,
        "started": False,
    }
    assert router.node.calls == []
    assert 55 <= await router.redis.ttl(keys.woken(sub_of("alice"))) <= 60


@pytest.mark.parametrize(
    ("body", "field"), [({"idle": 0}, "idle"), ({"idle": 31}, "idle"), ({"idle": 2.5}, "idle"),
                        ({"prompt": "hi"}, "prompt"), ([], "body")],
)  # fmt: skip
async def test_bad_bodies_are_a_400_naming_the_field(
    router: RouterHarness, body: object, field: str
) -> None:
    response = await router.client.post("/wake", json=body, headers=router.auth())
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert router.node.calls == []


async def test_the_owner_lifts_a_manual_hold_a_plain_user_gets_409(router: RouterHarness) -> None:
    assert (await router.client.post("/stop", headers=router.auth())).status_code == 200
    refused = await router.client.post("/wake", headers=router.auth("bob"))
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "manual_hold" and "manual hold" in error["message"]
    assert await NodeRegistry(router.redis).hold() == "manual"
    assert await NodeRegistry(router.redis).wake_note() is None
    calls = len(router.node.calls)
    assert (await wake(router))["started"] is True  # alice owns the deployment
    assert router.node.calls[calls:] == ["state", "start"]
    assert await NodeRegistry(router.redis).hold() is None


async def test_under_the_budget_hold_a_wake_is_refused_as_a_prompt_is(
    router: RouterHarness,
) -> None:
    await NodeRegistry(router.redis).set_hold("budget")
    woken = await router.client.post("/wake", headers=router.auth())
    prompted = await router.infer({"prompt": "hello"})
    assert woken.status_code == prompted.status_code == 503
    assert woken.json() == prompted.json()
    assert woken.json()["error"]["code"] == "budget_reached"
    assert woken.headers["retry-after"] == prompted.headers["retry-after"]
    assert router.node.calls == [] and "Wakes" not in router.metrics.counts


async def test_wakes_followed_by_a_prompt_are_counted_once(router: RouterHarness) -> None:
    await wake(router, sub="alice")
    await wake(router, sub="bob")
    for _ in range(2):  # alice's second prompt follows no wake of hers
        assert (await router.infer({"prompt": "hello"}, sub="alice")).status_code == 202
    assert router.metrics.counts["Wakes"] == 2
    assert router.metrics.counts["WakesFollowed"] == 1
    # An OpenAI client's request is a job too.
    chat = {"model": router.app.state.services.settings.served_model,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    headers = router.auth("bob") | {"x-stainless-retry-count": "0"}
    task = asyncio.create_task(
        router.client.post("/v1/chat/completions", json=chat, headers=headers)
    )
    await until(lambda: router.metrics.counts.get("WakesFollowed") == 2, timeout=5)
    task.cancel()


async def test_the_woken_node_idles_out_with_no_prompt(
    router: RouterHarness, redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    """The node a wake started (the node double says pending; the watcher here is its
    boot) becomes ready and stops itself once idle: the short idle cap stands for the
    minutes, which the next test shows are the wake's own."""
    assert (await wake(router, {"idle": 1}))["started"] is True
    async with watcher(redis_server.url, engine_double.url, idle_cap_seconds=1.0) as w:
        await w.until_ready()
        ready_at = time.monotonic()
        assert await asyncio.wait_for(asyncio.shield(w.task), timeout=5) == "idle"
        assert 0.9 <= time.monotonic() - ready_at < 2.0
        assert w.self_stop.stops == 1 and w.store.puts == 0


async def test_the_wakes_minutes_become_the_nodes_idle_window(
    router: RouterHarness, redis_server: RedisServer, engine_double: RunningEngineDouble
) -> None:
    await wake(router, {"idle": 2})
    async with watcher(redis_server.url, engine_double.url) as w:  # no cap: the minutes themselves
        await w.until_ready()
        await until(lambda: w.node.idle.window_seconds == 120, timeout=2)
        left = w.node.idle.seconds_left()
        assert left is not None and 118 < left <= 120  # counted from ready
        # A wake on the ready node: its minutes apply from the wake, at the next beat.
        await wake(router, {"idle": 1})
        await until(lambda: w.node.idle.window_seconds == 60, timeout=2)
        left = w.node.idle.seconds_left()
        assert left is not None and 58 < left <= 60
        # A note seen before changes nothing; an older one is never applied again.
        stale = WakeNote(idle=30, ts_ms=1)
        await router.redis.set(keys.WAKE, stale.model_dump_json())
        await asyncio.sleep(0.5)
        assert w.node.idle.window_seconds == 60
