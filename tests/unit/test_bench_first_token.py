"""bench/first_token.py: the medians per path and the router's cost beside the engine's."""

from __future__ import annotations

from bench.first_token import markdown_table, summarise


def test_the_router_is_compared_with_the_engine_by_the_medians() -> None:
    runs = {
        "engine": [
            {"first_token_seconds": s, "whole_reply_seconds": 1.0, "chars": 90.0}
            for s in (0.10, 0.20, 0.30)
        ],
        "router": [
            {"first_token_seconds": s, "whole_reply_seconds": 1.5, "chars": 90.0}
            for s in (0.15, 0.25, 9.0)
        ],
    }
    found = summarise(runs)
    assert found["engine"]["first_token_seconds"]["median"] == 0.2
    assert found["first_token"] == {"router_vs_engine": 1.25, "router_adds_ms": 50.0}
    assert found["whole_reply"] == {"router_vs_engine": 1.5, "router_adds_ms": 500.0}
    table = markdown_table(found)
    assert "| first token (median ms) | 200 | 250 | x1.25 | +50 ms |" in table
    assert "| whole reply (median ms) | 1000 | 1500 | x1.50 | +500 ms |" in table
