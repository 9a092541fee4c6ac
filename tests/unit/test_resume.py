"""ADR 0024's keys: which job "the same request again" resumes."""

from __future__ import annotations

from tlfif.resume import BODY_KEY_PREFIX, Resume, body_key, resume_for

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
ROUTE = "/v1/chat/completions"


def test_an_explicit_idempotency_key_always_wins() -> None:
    for count in (None, 0, 3):
        assert resume_for("turn-7", count, ROUTE, BODY) == Resume("turn-7")


def test_a_client_that_numbers_no_tries_gets_a_new_job() -> None:
    assert resume_for(None, None, ROUTE, BODY) == Resume()


def test_try_zero_is_fresh_and_later_tries_resume_under_the_bodys_key() -> None:
    first = resume_for(None, 0, ROUTE, BODY)
    later = resume_for(None, 2, ROUTE, BODY)
    assert first.fresh and not later.fresh
    assert first.key == later.key == body_key(ROUTE, BODY)


def test_the_body_key_ignores_key_order_but_not_the_route_or_the_content() -> None:
    reordered = {"messages": [{"content": "hi", "role": "user"}], "model": "m"}
    assert body_key(ROUTE, reordered) == body_key(ROUTE, BODY)
    assert body_key("/v1/completions", BODY) != body_key(ROUTE, BODY)
    assert body_key(ROUTE, BODY | {"temperature": 1}) != body_key(ROUTE, BODY)


def test_no_idempotency_key_a_client_sends_can_name_a_bodys_key() -> None:
    # No HTTP header value may hold a NUL, so these never meet a header's key.
    assert body_key(ROUTE, BODY).startswith(BODY_KEY_PREFIX) and "\x00" in BODY_KEY_PREFIX
