"""ClaimGate: pausing waits for claims under way; closing ends them for good."""

from __future__ import annotations

import asyncio

import pytest

from watcher.claim_gate import ClaimGate

pytestmark = pytest.mark.anyio


async def test_pause_waits_for_the_claim_under_way() -> None:
    gate = ClaimGate()
    release = asyncio.Event()

    async def claim() -> None:
        async with gate.claiming() as admitted:
            assert admitted
            await release.wait()

    claimer = asyncio.create_task(claim())
    await asyncio.sleep(0.01)
    pausing = asyncio.create_task(gate.pause())
    await asyncio.sleep(0.05)
    assert not pausing.done()
    release.set()
    await asyncio.wait_for(pausing, 1)
    await claimer


async def test_a_paused_gate_holds_claims_until_resumed() -> None:
    gate = ClaimGate()
    await gate.pause()
    entered = asyncio.Event()

    async def claim() -> None:
        async with gate.claiming():
            entered.set()

    claimer = asyncio.create_task(claim())
    await asyncio.sleep(0.05)
    assert not entered.is_set()
    await gate.resume()
    await asyncio.wait_for(claimer, 1)
    assert entered.is_set()


async def test_a_closed_gate_admits_no_claim_even_when_paused() -> None:
    gate = ClaimGate()
    await gate.pause()

    async def claim() -> bool:
        async with gate.claiming() as admitted:
            return admitted

    claimer = asyncio.create_task(claim())
    await asyncio.sleep(0.01)
    await gate.close()
    assert await asyncio.wait_for(claimer, 1) is False
    assert gate.closed


async def test_pauses_nest_claims_wait_until_every_pause_has_ended() -> None:
    gate = ClaimGate()
    await gate.pause()  # the idle stopper
    await gate.pause()  # an engine outage
    await gate.resume()

    async def claim() -> bool:
        async with gate.claiming() as admitted:
            return admitted

    claimer = asyncio.create_task(claim())
    await asyncio.sleep(0.05)
    assert not claimer.done(), "a claim got through while a pause still held"
    await gate.resume()
    assert await asyncio.wait_for(claimer, 1) is True
