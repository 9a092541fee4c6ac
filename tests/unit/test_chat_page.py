"""router/chat_page.py: the page and its two files, served from package data with their
security headers, to anyone (no token); the page itself runs nothing inline and loads
nothing the router does not serve."""

from __future__ import annotations

from html.parser import HTMLParser
from importlib.resources import files

import pytest

from router.chat_page import ASSETS, HEADERS
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.router_provocations import fake_router

pytestmark = pytest.mark.anyio
STATIC = files("router") / "static"


class PageParts(HTMLParser):
    """What index.html loads, and anything in it that would run or style inline."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.inline += [f"{tag} {name}" for name in named if name.startswith("on")]
        if "style" in named or tag == "style":
            self.inline.append(f"{tag} style")
        if tag == "script":
            self._in_script = True
            if not named.get("src"):
                self.inline.append("script without src")
        for link in (named.get("src"), named.get("href") if tag == "link" else None):
            if link:
                self.loaded.append(link)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("script body")


async def test_the_page_and_its_files_are_served_without_a_token(
    token_issuer: TokenIssuerDouble,
) -> None:
    async with fake_router(token_issuer) as router:
        page = await router.client.get("/")
        files_ = {name: await router.client.get(f"/static/{name}") for name in ASSETS}
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == (STATIC / "index.html").read_bytes()
    for name, answer in files_.items():
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == f"{ASSETS[name]}; charset=utf-8"
        assert answer.content == (STATIC / name).read_bytes()
    for answer in (page, *files_.values()):
        assert {k: answer.headers.get(k) for k in HEADERS} == HEADERS
        assert "x-request-id" in answer.headers


def test_the_policy_allows_no_inline_script_no_framing_and_no_other_origin() -> None:
    policy = dict(part.split(" ", 1) for part in HEADERS["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert HEADERS["Referrer-Policy"] == "no-referrer"
    assert HEADERS["X-Content-Type-Options"] == "nosniff"


async def test_any_other_file_is_a_404_and_the_page_takes_only_get(
    token_issuer: TokenIssuerDouble,
) -> None:
    async with fake_router(token_issuer) as router:
        for name in ("index.html", "../app.py", "chat.map", "CHAT.JS"):
            missing = await router.client.get(f"/static/{name}")
            assert missing.status_code == 404, name
            assert missing.json()["error"]["code"] == "not_found"
        posted = await router.client.post("/")
    assert posted.status_code == 405


def test_the_page_runs_nothing_inline_and_loads_only_what_is_served() -> None:
    parts = PageParts()
    parts.feed((STATIC / "index.html").read_text("utf-8"))
    assert parts.inline == []
    assert sorted(parts.loaded) == sorted(f"static/{name}" for name in ASSETS)


def test_the_token_is_kept_in_session_storage_only() -> None:
    script = (STATIC / "chat.js").read_text("utf-8")
    assert "sessionStorage.setItem(TOKEN_KEY" in script
    assert "localStorage." not in script and "document.cookie" not in script
    assert ".innerHTML" not in script  # text goes in as text, never as markup
