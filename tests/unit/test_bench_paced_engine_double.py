"""bench/paced_engine_double.py: streams as the watcher's EngineClient expects."""

from __future__ import annotations

import httpx
import pytest

from bench.paced_engine_double import PacedEngineDouble
from tlfif.contracts import Message, Params
from watcher.engine import EngineClient


@pytest.mark.anyio
async def test_each_reply_is_max_tokens_long_and_finishes_on_length() -> None:
    double = PacedEngineDouble(tokens_per_second=10_000)
    transport = httpx.ASGITransport(app=double.app)
    async with EngineClient("http://double/v1", "m", "none", 10, transport=transport) as engine:
        done = await engine.complete([Message(role="user", content="hi")], Params(max_tokens=5))
        async with httpx.AsyncClient(transport=transport, base_url="http://double") as control:
            state = (await control.get("/_double/state")).json()
    assert done.finish_reason == "length" and done.usage_source == "engine"
    assert done.usage.completion_tokens == 5 and done.text == " tok" * 5
    assert state == {"served": 1, "in_flight": 0, "max_in_flight": 1}
