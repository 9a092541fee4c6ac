"""`tlfif gui`: reads the settings, opens the window, wires controllers and backends, runs Tk."""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gui import log
from gui.aws_backend import AwsTinyLlamaClient
from gui.backend import AWS_TINYLLAMA, OPENAI
from gui.backends import BackendEntry, BackendRegistry
from gui.chat import ChatController
from gui.cost_ticker import CostTicker
from gui.desktop import settings_path
from gui.openai_backend import OpenAiApiClient
from gui.scheduler import ThreadedScheduler
from gui.settings import GuiSettings, SettingsFile
from gui.wake_ahead import WakeAhead
from gui.wiring import aws_backend, openai_backend
from tlfif.errors import ConfigError

if TYPE_CHECKING:
    import tkinter as tk

    from gui.window import MainWindow

EXIT_OK, EXIT_CONFIG, EXIT_NO_DISPLAY = 0, 2, 4


def run(*, profile: str | None = None, ini: Path | None = None) -> int:
    log.setup()
    settings_file = SettingsFile(ini or settings_path())
    try:
        settings = settings_file.load()
    except ConfigError as exc:
        print(f"tlfif gui: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    if profile:
        settings = replace(settings, profile=profile)
    try:
        import tkinter as tk
    except ImportError:
        missing = "Python's tkinter is missing (Debian/Ubuntu: apt install python3-tk)"
        print(f"tlfif gui: {missing}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    try:
        root = tk.Tk(className="TL-FIF")
    except tk.TclError as exc:
        print(f"tlfif gui: no display to open the window on ({exc})", file=sys.stderr)
        return EXIT_NO_DISPLAY
    DesktopApp(root, settings_file, settings).run()
    return EXIT_OK


class DesktopApp:
    """The window, its controllers and the backends, wired together."""

    def __init__(self, root: tk.Tk, settings_file: SettingsFile, settings: GuiSettings) -> None:
        # Imported here, after run() made sure tkinter exists.
        from gui.window import MainWindow

        self.root = root
        self.window: MainWindow = MainWindow(
            root, [AWS_TINYLLAMA, OPENAI], settings.backend, settings.idle_minutes
        )
        self.scheduler = ThreadedScheduler(root)
        self.closing = threading.Event()
        self.backends = BackendRegistry(
            [
                BackendEntry(
                    AWS_TINYLLAMA,
                    AwsTinyLlamaClient.can_stop,
                    AwsTinyLlamaClient.has_cost,
                    build=lambda: aws_backend(
                        self.chat.settings, notify=self._login_notice, cancelled=self.closing
                    ),
                    can_wake=AwsTinyLlamaClient.can_wake,
                    can_cancel=AwsTinyLlamaClient.can_cancel,
                ),
                BackendEntry(
                    OPENAI,
                    OpenAiApiClient.can_stop,
                    OpenAiApiClient.has_cost,
                    build=lambda: openai_backend(self.chat.settings),
                    can_wake=OpenAiApiClient.can_wake,
                    can_cancel=OpenAiApiClient.can_cancel,
                ),
            ]
        )
        self.chat = ChatController(
            self.window,
            self.backends,
            settings_file,
            settings,
            self.scheduler,
            closing=self.closing,
        )
        self.ticker = CostTicker(
            self.window,
            self.backends,
            self.scheduler,
            current_backend=lambda: self.chat.backend_name,
            cold_starting=lambda: self.chat.cold_starting,
        )
        self.wake_ahead = WakeAhead(
            self.window,
            self.backends,
            self.scheduler,
            settings=lambda: self.chat.settings,
            sending=lambda: self.chat.in_flight,
        )
        self.chat.on_settled = self._settled
        self._closed = False

    def _settled(self) -> None:
        # After a reply the node has just answered: show its phase now, not "stopped" from
        # before the cold start until the ticker's next turn; and it stays up an idle
        # period from now, so typing the next prompt needs no wake.
        self.wake_ahead.node_used()
        self.ticker.tick()

    def run(self) -> None:
        self.window.on_send = self.chat.send
        self.window.on_typing = self.wake_ahead.typed
        self.window.on_stop = self.chat.stop_gpu
        self.window.on_stop_reply = self.chat.stop_reply
        self.window.on_new_chat = self.chat.new_chat
        self.window.on_backend = self._switch
        self.window.on_idle = self.chat.set_idle
        self.root.protocol("WM_DELETE_WINDOW", self.close)
        # Python runs signal handlers between bytecodes; the scheduler's pump runs Python
        # every 50 ms, so Ctrl-C in the terminal (or a SIGTERM) closes the window cleanly.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.root.after(0, self.close))
        self.scheduler.start()
        self.chat.start()
        self.ticker.tick()
        log.log_event("started", self.chat.backend_name)
        self.root.mainloop()

    def close(self) -> None:
        if self._closed:
            return  # the close button and a signal may both ask
        self._closed = True
        self.ticker.stop()
        self.scheduler.stop()
        self.chat.close()
        self.root.destroy()

    def _switch(self, name: str) -> None:
        self.chat.switch_backend(name)
        self.ticker.tick()

    def _login_notice(self, text: str) -> None:
        # Called from the worker thread that logs in.
        self.scheduler.post(lambda: self.window.show_notice(f"{AWS_TINYLLAMA}: {text}"))
