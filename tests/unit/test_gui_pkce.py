"""gui/pkce.py: RFC 7636's S256 challenge and the hosted UI's /oauth2/authorize URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from gui.pkce import authorize_url, callback_url, challenge_of, new_pkce


def test_the_challenge_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert challenge_of(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_new_verifier_is_43_to_128_unreserved_characters_and_never_repeats() -> None:
    pairs = [new_pkce() for _ in range(20)]
    for pair in pairs:
        assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", pair.verifier)
        assert pair.challenge == challenge_of(pair.verifier)
    assert len({pair.verifier for pair in pairs}) == 20


def test_the_callback_url_is_exactly_the_one_infra_registers() -> None:
    # infra/modules/identity: "http://localhost:${var.desktop_callback_port}/callback"
    assert callback_url(53682) == "http://localhost:53682/callback"


def test_the_authorize_url_asks_for_a_code_with_an_s256_challenge() -> None:
    url = authorize_url(
        "https://tl-fif.auth.eu-central-1.amazoncognito.com/",
        client_id="desktop",
        redirect_uri="http://localhost:53682/callback",
        state="st4te",
        challenge="ch4llenge",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "tl-fif.auth.eu-central-1.amazoncognito.com",
        "/oauth2/authorize",
    )
    assert {key: values[0] for key, values in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "desktop",
        "redirect_uri": "http://localhost:53682/callback",
        "state": "st4te",
        "scope": "openid email",
        "code_challenge_method": "S256",
        "code_challenge": "ch4llenge",
    }
