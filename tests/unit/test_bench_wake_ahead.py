"""bench/wake_ahead.py: the text read off a chat completion stream, and the summary."""

from __future__ import annotations

import json

from bench.wake_ahead import markdown_table, summarise, text_of


def test_only_a_chunks_content_is_text() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "Paris"}}]}
    assert text_of(f"data: {json.dumps(chunk)}") == "Paris"
    role_only = {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    assert text_of(f"data: {json.dumps(role_only)}") == ""
    assert text_of('data: {"choices": [], "usage": {"completion_tokens": 3}}') == ""
    assert text_of(": keep-alive") == text_of("data: [DONE]") == text_of("") == ""


def test_the_summary_takes_each_kinds_median_and_the_difference() -> None:
    runs = [
        {"wake_ahead": False, "first_text_seconds": 31.0},
        {"wake_ahead": True, "first_text_seconds": 11.5},
        {"wake_ahead": False, "first_text_seconds": 33.0},
        {"wake_ahead": True, "first_text_seconds": 12.5},
    ]
    found = summarise(runs)
    assert found["first_text_seconds"]["without"]["median"] == 32.0
    assert found["first_text_seconds"]["with"]["median"] == 12.0
    assert found["saved_seconds"] == 20.0
    assert "| with wake-ahead | 12.00 (11.50 to 12.50) |" in markdown_table(found)
