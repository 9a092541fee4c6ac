"""bench/router.py: enough users that the shipped limits refuse none, and the ratios."""

from __future__ import annotations

from bench.router import KINDS, figures, markdown_table, users_needed, verified_settings
from tests.doubles.token_issuer import TokenIssuerDouble
from tlfif.settings import RouterSettings


def test_no_user_sends_more_than_the_limits_and_the_cap_allow() -> None:
    settings = RouterSettings(cognito_issuer="https://issuer", client_ids=["c"])
    users = users_needed(1030, settings)
    per_user = -(-1030 // users)  # round-robin: the most any one user sends
    assert per_user <= settings.throttle_write_per_minute
    assert per_user <= settings.user_pending_cap


def test_the_verified_router_runs_with_the_shipped_limits() -> None:
    settings = verified_settings(TokenIssuerDouble())
    assert not settings.trust_gateway_claims
    assert settings.throttle_write_per_second > 0 and settings.user_pending_cap > 0


def test_ratios_and_goals_are_over_the_bare_enqueue() -> None:
    samples = {kind: [1.0] * 10 for kind in KINDS}
    samples["infer_gateway"] = [2.0] * 10
    samples["infer_verified"] = [4.0] * 10
    found = figures(samples, users=3, jwks_fetches=1, answers={})
    assert found["ratios"]["infer_gateway_over_enqueue_p50"] == 2.0
    assert found["ratios"]["infer_verified_over_enqueue_p95"] == 4.0
    met = {goal["goal"]: goal["met"] for goal in found["goals"]}
    assert met["infer_gateway p95 <= 3x enqueue"] and not met["infer_verified p50 <= 3x enqueue"]
    assert markdown_table(found).count("\n") == 1 + len(KINDS)
