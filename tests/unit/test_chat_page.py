"""router/chat_page.py: the page and its two files, served from package data with their
security headers, to anyone (no token); the page itself runs nothing inline and loads
nothing the router does not serve; how it signs in, from the router's settings, escaped
into its <meta>, with that one origin added to connect-src."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest
from pydantic import SecretStr

from router.chat_page import ASSETS, SIGN_IN_SLOT, SignIn, content_security_policy, headers
from tests.doubles.token_issuer import TokenIssuerDouble
from tests.fixtures.router_provocations import fake_router
from tlfif.errors import ConfigError
from tlfif.settings import RouterSettings

pytestmark = pytest.mark.anyio
STATIC = files("router") / "static"
HEADERS = headers(SignIn())  # a router with no sign-in service: a pasted token
HOSTED_UI = "https://tlfif-dev.auth.eu-central-1.amazoncognito.com"


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
    template = (STATIC / "index.html").read_text("utf-8")
    assert page.text == template.replace(SIGN_IN_SLOT, html.escape(json.dumps(_blank())))
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
    # localStorage keeps one thing, the wake-ahead choice (ADR 0029): never a token.
    uses = re.findall(r"localStorage\.(\w+)\(([^,)]*)", script)
    assert uses and all(key == "WAKE_KEY" for _, key in uses), uses
    assert "document.cookie" not in script
    assert ".innerHTML" not in script  # text goes in as text, never as markup


def _blank() -> dict[str, str]:
    return {"hosted_ui": "", "client_id": "", "scopes": "openid email"} | {
        "cognito_url": "",
        "username": "",
        "password": "",
    }


def test_deployed_the_page_signs_in_at_the_hosted_ui_which_connect_src_allows() -> None:
    settings = RouterSettings(
        client_ids=["cli", "page"], chat_hosted_ui=f"{HOSTED_UI}/", chat_client_id="page"
    )
    sign_in = SignIn.of(settings)
    assert (sign_in.hosted_ui, sign_in.client_id, sign_in.password) == (HOSTED_UI, "page", "")
    policy = dict(part.split(" ", 1) for part in content_security_policy(sign_in).split("; "))
    assert policy["connect-src"] == f"'self' {HOSTED_UI}"
    assert policy["script-src"] == "'self'"  # only fetches may go there, nothing runs from it


def test_locally_the_demo_user_is_served_and_only_the_emulator_added() -> None:
    settings = RouterSettings(
        client_ids=["local"],
        chat_cognito_url="http://127.0.0.1:5000",
        chat_client_id="local",
        chat_demo_username="demo",
        chat_demo_password=SecretStr("Demo-passw0rd!"),
    )
    sign_in = SignIn.of(settings)
    assert (sign_in.username, sign_in.password, sign_in.hosted_ui) == ("demo", "Demo-passw0rd!", "")
    assert "connect-src 'self' http://127.0.0.1:5000;" in content_security_policy(sign_in)


async def test_a_setting_cannot_break_out_of_the_meta(token_issuer: TokenIssuerDouble) -> None:
    sneaky = 'https://x.example/"><script>alert(1)</script>'
    settings = {"chat_hosted_ui": sneaky, "chat_client_id": token_issuer.client_id}
    async with fake_router(token_issuer, limits=settings) as router:
        page = await router.client.get("/")
    assert "<script>alert" not in page.text
    (content,) = re.findall(r'<meta name="tlfif-sign-in" content="([^"]*)">', page.text)
    assert json.loads(html.unescape(content))["hosted_ui"] == sneaky


def test_the_page_client_must_be_accepted_and_the_demo_password_stays_local() -> None:
    with pytest.raises(ConfigError, match="sign-in needs TLFIF_ROUTER_CHAT_CLIENT_ID"):
        RouterSettings.load(chat_hosted_ui="https://tlfif.auth.eu-central-1.amazoncognito.com")
    with pytest.raises(ConfigError, match="CHAT_CLIENT_ID must be one of"):
        RouterSettings.load(client_ids=["cli"], chat_client_id="page")
    with pytest.raises(ConfigError, match="for the local stack only"):
        RouterSettings.load(trust_gateway_claims=True, chat_demo_password=SecretStr("x"))
