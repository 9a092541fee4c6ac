"""The chat page: GET / and the two files it loads, GET /static/{name}, from the package's
own data (router/static/), with headers under which they run nothing but themselves.

Loading the page takes no token. The page learns how to sign in from a `<meta>` this
module fills in from the router's settings: Cognito's hosted UI with PKCE (deployed), the
local stack's demo user, or neither (a pasted token); the Content-Security-Policy lets it
reach that one sign-in origin beside its own. Same origin as the API, so its calls to the
router need no CORS (ADR 0026).
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from router.deps import services
from tlfif.settings import RouterSettings

PAGE = "index.html"
# Where index.html takes the sign-in settings: the content of its <meta name="tlfif-sign-in">.
SIGN_IN_SLOT = "{{sign_in}}"
# Everything under /static, by name, with its media type; any other name is a 404.
ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css"}
# The scopes the page's app client allows (infra/modules/identity): the access token is
# what the router checks; openid and email name the user on the hosted UI.
SCOPES = "openid email"


@dataclass(frozen=True)
class SignIn:
    """How the page signs in, as chat.js reads it from the page's <meta>.

    `hosted_ui` set: Cognito's hosted UI, authorization code with PKCE, for `client_id`.
    `cognito_url` set: the local stack's demo user, by InitiateAuth (USER_PASSWORD_AUTH)
    at that Cognito API endpoint. Neither: the user pastes an access token.
    """

    hosted_ui: str = ""
    client_id: str = ""
    scopes: str = SCOPES
    cognito_url: str = ""
    username: str = ""
    password: str = ""

    @classmethod
    def of(cls, settings: RouterSettings) -> SignIn:
        if settings.chat_hosted_ui and settings.chat_client_id:
            return cls(
                hosted_ui=settings.chat_hosted_ui.rstrip("/"), client_id=settings.chat_client_id
            )
        password = settings.chat_demo_password.get_secret_value()
        if settings.chat_cognito_url and settings.chat_client_id and password:
            return cls(
                client_id=settings.chat_client_id,
                cognito_url=settings.chat_cognito_url,
                username=settings.chat_demo_username,
                password=password,
            )
        return cls()

    @property
    def origin(self) -> str | None:
        """The one origin besides its own that the page may call, if any."""
        url = self.hosted_ui or self.cognito_url
        if not url:
            return None
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(sign_in: SignIn) -> str:
    # This origin's own script, styles and API, nothing inline (the page has no inline
    # script or style, so an injected one cannot run), nothing framing it (clickjacking),
    # no <base> or form that could send anything elsewhere. connect-src adds the sign-in
    # origin: the hosted UI's /oauth2/token, which the page calls to redeem its code.
    connect = " ".join(filter(None, ("'self'", sign_in.origin)))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def headers(sign_in: SignIn) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(sign_in),
        "X-Content-Type-Options": "nosniff",
        # The hosted UI's code comes back in the page's query: no Referer carries it on.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
        "Cross-Origin-Opener-Policy": "same-origin",
        # Fetched anew each time (a few kB): a deploy never pairs a new page with an old script.
        "Cache-Control": "no-cache",
    }


async def page(request: Request) -> Response:
    return page_for(SignIn.of(services(request).settings))


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404)
    return Response(_content(name), media_type=media_type, headers=headers(SignIn()))


def page_for(sign_in: SignIn) -> Response:
    """The page, told how to sign in: the JSON escaped as an attribute value, so nothing in
    a setting can end the attribute or the tag."""
    slot = html.escape(json.dumps(asdict(sign_in)), quote=True)
    body = _content(PAGE).decode("utf-8").replace(SIGN_IN_SLOT, slot)
    # Starlette adds "; charset=utf-8" to a text/* media type.
    return Response(body, media_type="text/html", headers=headers(sign_in))


@cache
def _content(name: str) -> bytes:
    """Read once per process: on Lambda, once per cold start."""
    return (files("router") / "static" / name).read_bytes()
