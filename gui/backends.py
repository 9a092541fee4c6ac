"""The dropdown's backends: what each can do, and each built on first use, then kept.

Capabilities are known without building a backend, so switching is instant; building
(reading the stack profile, importing `openai`) happens off the Tk thread on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from gui.backend import BackendClient
from gui.backend_errors import BackendError, BackendRefused
from tlfif.errors import TlfifError


@dataclass(frozen=True)
class BackendEntry:
    name: str
    can_stop: bool
    has_cost: bool
    build: Callable[[], BackendClient]
    can_wake: bool = False
    can_cancel: bool = False  # Send becomes Stop while a reply is on its way


class BackendRegistry:
    def __init__(self, entries: list[BackendEntry]) -> None:
        self._entries = {entry.name: entry for entry in entries}
        self._built: dict[str, BackendClient] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def entry(self, name: str) -> BackendEntry:
        return self._entries[name]

    def get(self, name: str) -> BackendClient:
        """The backend, built now if this is its first use. Blocks: not on the Tk thread."""
        with self._lock:
            if name not in self._built:
                try:
                    self._built[name] = self._entries[name].build()
                except BackendError:
                    raise
                except TlfifError as exc:
                    # A missing stack profile, an unreadable setting: shown, named.
                    raise BackendRefused(name, exc.message) from exc
            return self._built[name]

    def close(self) -> None:
        with self._lock:
            for backend in self._built.values():
                backend.close()
            self._built.clear()
