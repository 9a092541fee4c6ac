"""A webhook receiver double: an HTTPS server on 127.0.0.1 under a certificate from a CA made
for the test (trustme), that records every delivery and answers by path:

    /status/<code>   answers <code> (a 3xx with a Location), every time
    anything else    200

It checks nothing itself: tests check the signature with the user's shown secret.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_ms: int
    sni: str | None


class WebhookReceiverDouble:
    """`names`: the host names its certificate is good for."""

    def __init__(self, tmp: Path, names: tuple[str, ...] = ("receiver.test",)) -> None:
        self.ca = trustme.CA()
        self.ca_file = tmp / "webhook-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*names).configure_cert(context)
        # The name the last client asked for in its TLS hello (deliveries here are serial).
        self.last_sni: str | None = None

        def remember_sni(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            self.last_sni = name

        context.sni_callback = remember_sni
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiverDouble:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, host: str = "receiver.test", path: str = "/hook") -> str:
        return f"https://{host}:{self.port}{path}"

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def deliveries(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [one for one in self.received if path is None or one.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.deliveries(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(self.deliveries(path))} deliveries to {path}, not {count}")


def _handler_for(receiver: WebhookReceiverDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.record(
                Received(
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                    int(time.time() * 1000),
                    receiver.last_sni,
                )
            )
            status = 200
            if self.path.startswith("/status/"):
                status = int(self.path.removeprefix("/status/"))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "https://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler
