"""The login's way back: a one-shot HTTP server on the fixed loopback port that Cognito
redirects the browser to (http://localhost:<port>/callback?code=...&state=...).
"""

from __future__ import annotations

import errno
import html
import queue
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from gui.desktop import may_reuse_address
from tlfif.client.errors import LoginFailed

CALLBACK_PATH = "/callback"
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>TL-FIF</title></head>"
    "<body style='font-family:sans-serif'><h2>{title}</h2><p>{text}</p></body></html>"
)


@dataclass(frozen=True)
class CallbackResult:
    code: str | None
    state: str | None
    error: str | None


class _Server(HTTPServer):
    allow_reuse_address = may_reuse_address()
    results: queue.Queue[CallbackResult]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != CALLBACK_PATH:
            self._answer(404, "Not found", "This address only takes the TL-FIF login.")
            return
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        error = query.get("error")
        if error and query.get("error_description"):
            error = f"{error}: {query['error_description']}"
        self.server.results.put(CallbackResult(query.get("code"), query.get("state"), error))
        if error:
            self._answer(400, "Login failed", f"{error}. Go back to TL-FIF and try again.")
        else:
            self._answer(200, "Logged in", "You can close this tab and return to TL-FIF.")

    def _answer(self, status: int, title: str, text: str) -> None:
        # The text may echo the query (?error=...): escaped, or a crafted link would run
        # script on this origin, which the router's CORS allows.
        body = PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        # Nothing on this page needs script, styles from elsewhere, or a frame around it.
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The query holds the one-time code: it is not logged.
        return


class CallbackServer:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CallbackServer:
        try:
            server = _Server((self.host, self.port), _Handler)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise LoginFailed(
                    f"port {self.port} for the login callback is taken (another TL-FIF login "
                    "in progress?); close it or set [aws] callback_port"
                ) from None
            raise
        server.results = queue.Queue()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait_for_code(self, state: str, *, timeout: float, cancelled: threading.Event) -> str:
        """The authorization code of the redirect carrying `state`; other hits are ignored."""
        assert self._server is not None, "use CallbackServer as a context manager"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not cancelled.is_set():
            try:
                result = self._server.results.get(timeout=0.5)
            except queue.Empty:
                continue
            if result.state != state:
                # Not our login (a stale tab, or a forged redirect): CSRF protection.
                continue
            if result.error or not result.code:
                raise LoginFailed(f"the hosted UI refused the login ({result.error or 'no code'})")
            return result.code
        raise LoginFailed("no login arrived from the browser in time")
