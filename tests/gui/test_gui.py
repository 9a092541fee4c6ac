"""The real window under Xvfb, driven with real key and mouse events (XTEST, xdotool):
type, Ctrl+Enter, a reply appears; Stop GPU works; the idle minutes survive a restart;
the Backend dropdown switches to OpenAI, where Stop GPU is disabled.

`tlfif gui` runs as its own process against the stack a test can script: moto's Cognito
with the demo user (the real login path) and RouterApiDouble served over HTTP. The
screenshot of the window with its replies is saved under the test's tmp dir, or where
GUI_SCREENSHOT says (`GUI_SCREENSHOT=docs/gui.png` refreshes the README's picture).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from gui.chat import POLL_SECONDS
from gui.window import DISABLED_BG, GREEN, RED
from tests.doubles.http_app import http_app
from tests.doubles.router_api_double import RouterApiDouble
from tests.fixtures.asgi_server import serve_asgi
from tests.fixtures.moto_server import REGION, CognitoPool
from tests.gui.x11 import MISSING, Area, Window, find_window, missing_reason, wait_for

pytestmark = pytest.mark.skipif(bool(MISSING), reason=missing_reason())

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "gui-test"
COST = {
    "billed": None,
    "estimate": {
        "eur": 3.17,
        "running_seconds": 5400,
        "node_hourly_usd": 0.526,
        "as_of_ms": 1,
        "age_seconds": 42,
    },
}
CONVERSATION = [
    (
        "What does TL-FIF do while nobody uses it?",
        "It sleeps: the GPU node stays stopped and costs nothing. A prompt waits in the "
        "queue while the node boots, and a few idle minutes after the reply it stops itself.",
    ),
    (
        "And if I want it off right now?",
        "Press Stop GPU: the router marks the node stopping and it shuts down in seconds.",
    ),
]


@dataclass
class GuiHome:
    """Where a `tlfif gui` run finds its stack profile, settings file and home."""

    config: Path
    ini: Path
    home: Path


@dataclass
class Stack(GuiHome):
    router: RouterApiDouble

    def infer_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.router.sent("POST /infer")]


@pytest.fixture
def stack(cognito_pool: CognitoPool, aws: str, tmp_path: Path) -> Iterator[Stack]:
    router = RouterApiDouble(canned={"GET /cost": httpx.Response(200, json=COST)})
    with serve_asgi(http_app(router.handle), "router-api-double") as url:
        config = tmp_path / "config.json"
        profile = {
            "api_url": url,
            "region": REGION,
            "user_pool_id": cognito_pool.pool_id,
            "client_id": cognito_pool.client_id,
            "cognito_endpoint_url": aws,
            "demo_username": cognito_pool.username,
            "demo_password": cognito_pool.password,
        }
        config.write_text(json.dumps({PROFILE: profile}), "utf-8")
        home = tmp_path / "home"
        home.mkdir()
        yield Stack(config, home / ".tl-fif.ini", home, router)


class GuiProcess:
    """One `tlfif gui` run; its JSON log lines are its stderr."""

    def __init__(self, stack: GuiHome, display: str, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TLFIF_", "AWS_"))}
        env.update(
            DISPLAY=display,
            HOME=str(stack.home),
            TLFIF_CLI_CONFIG=str(stack.config),
            TLFIF_GUI_INI=str(stack.ini),
            # No keyring daemon to ask, and no OpenAI key from the developer's shell.
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            OPENAI_API_KEY="",
        )
        self.log = log
        self._stderr = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tlfif_cli", "--profile", PROFILE, "gui"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        self.window: Window = find_window(display, "TL-FIF")
        wait_for("the app to start", lambda: self.events("started"))
        self.window.focus()

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text("utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == name:
                found.append(entry)
        return found

    def send(self, prompt: str) -> None:
        self.window.focus()
        self.window.type(prompt)
        self.window.key("ctrl+Return")

    def close(self) -> None:
        # SIGTERM closes the window the way its close button does (gui/app.py).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


@pytest.fixture
def start_gui(stack: Stack, display: str, tmp_path: Path) -> Iterator[Any]:
    started: list[GuiProcess] = []

    def start() -> GuiProcess:
        app = GuiProcess(stack, display, tmp_path / f"gui-{len(started)}.log")
        started.append(app)
        return app

    yield start
    for app in started:
        if app.process.poll() is None:
            app.close()


def test_the_window_answers_stops_the_gpu_and_keeps_the_idle_minutes(
    stack: Stack, start_gui: Any, tmp_path: Path
) -> None:
    screenshot = Path(os.environ.get("GUI_SCREENSHOT") or tmp_path / "gui.png")
    app: GuiProcess = start_gui()

    # Type, Ctrl+Enter, a reply appears; the second send carries the first exchange.
    for n, (prompt, reply) in enumerate(CONVERSATION, start=1):
        stack.router.reply_text = reply
        app.send(prompt)
        wait_for(f"reply {n}", partial(replies_are, app, n))
    first, second = stack.infer_bodies()
    assert first == {
        "messages": [{"role": "user", "content": CONVERSATION[0][0]}],
        "idle": 5,
        "stream": True,
    }
    assert [m["content"] for m in second["messages"]] == [
        CONVERSATION[0][0],
        CONVERSATION[0][1],
        CONVERSATION[1][0],
    ]
    # The double has no live events (404, as an older router): the window fell back to
    # waiting out the cold start with the router's long poll.
    results = stack.router.sent("GET /result/")
    followed = [r for r in results if r.url.path.endswith("/events")]
    assert len(followed) == 2
    assert {r.url.params.get("wait") for r in results if r not in followed} == {str(POLL_SECONDS)}

    # Stop GPU: the red button, clicked with the mouse, once Send is green again (while a
    # reply is on its way Send is a Stop of the same red).
    wait_for("Send back after the reply", lambda: app.window.find_colour(_rgb(GREEN)))
    stop_button = wait_for("the red Stop GPU button", lambda: app.window.find_colour(_rgb(RED)))
    assert isinstance(stop_button, Area)
    app.window.click(*stop_button.centre)
    wait_for("POST /stop", lambda: stack.router.sent("POST /stop"))
    wait_for("the node shown stopping", lambda: app.events("node"))
    assert app.events("node")[-1]["node"] == "stopping"
    app.window.save_png(screenshot)
    assert screenshot.stat().st_size > 0

    # The idle minutes: Alt+I, type 12; saved at once, and still 12 after a restart.
    app.window.key("alt+i")
    app.window.type("12")
    wait_for("idle_minutes = 12 in the ini", lambda: "idle_minutes = 12" in _read(stack.ini))
    app.close()
    again: GuiProcess = start_gui()
    again.window.park_pointer()  # off the buttons: a hovered button changes colour
    again.send("Still 12 idle minutes?")
    wait_for("the reply after the restart", lambda: again.events("reply"))
    assert stack.infer_bodies()[-1]["idle"] == 12
    wait_for("Send back after the reply", lambda: again.window.find_colour(_rgb(GREEN)))

    # Backend: OpenAI from the dropdown, by keyboard; Stop GPU goes grey, never faked.
    assert again.window.find_colour(_rgb(RED)) is not None
    again.window.key("alt+b", "Down")
    again.window.key("Down", "Return")
    wait_for("OpenAI selected", lambda: again.events("backend_selected"))
    assert again.events("backend_selected")[-1]["backend"] == "OpenAI"
    wait_for("Stop GPU disabled", lambda: again.window.find_colour(_rgb(RED)) is None)
    assert again.window.colour_at(*stop_button.inside_left) == _rgb(DISABLED_BG)
    assert "backend = OpenAI" in _read(stack.ini)


def replies_are(app: GuiProcess, count: int) -> bool:
    return len(app.events("reply")) == count


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _read(path: Path) -> str:
    return path.read_text("utf-8") if path.exists() else ""


def test_typing_wakes_the_node_once_per_idle_period(stack: Stack, start_gui: Any) -> None:
    """The first keys wake the node (POST /wake, ADR 0029); the rest of the prompt, the
    send and the next prompt typed after the reply, within the idle period, wake nothing."""
    stack.router.phases = []  # the reply at the first poll: this test is about the wake
    app: GuiProcess = start_gui()
    app.window.focus()
    app.window.type("Why is")
    wait_for("POST /wake", lambda: stack.router.sent("POST /wake"))
    app.window.type(" the sky blue?")
    app.window.key("ctrl+Return")
    wait_for("the reply", lambda: app.events("reply"))
    app.send("And at sunset?")
    wait_for("the second reply", partial(replies_are, app, 2))
    (wake,) = stack.router.sent("POST /wake")
    assert json.loads(wake.content) == {"idle": 5}
    assert [event["node"] for event in app.events("woken")] == ["starting"]
    assert (
        stack.router.sent("POST /infer")[0].headers["Authorization"]
        == wake.headers["Authorization"]
    )
