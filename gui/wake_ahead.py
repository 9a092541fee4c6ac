"""WakeAhead: typing in the PromptBox starts the GPU node before the prompt is sent
(POST /wake, ADR 0029), so the cold start runs while the user writes.

At most one wake per idle period: a wake, or a reply, keeps the node up that long, so a
second would only buy more idle minutes. None while a send is in flight (the prompt woke
the node), none for a backend without a node, none with `[gui] wake_ahead = false`. A wake
is a hint: it runs off the Tk thread, so typing never waits, and a failure is only logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gui.backends import BackendRegistry
from gui.log import log_event
from gui.scheduler import Scheduler
from gui.settings import GuiSettings
from gui.view import ChatView
from tlfif.contracts import NodePhase


class WakeAhead:
    def __init__(
        self,
        view: ChatView,
        backends: BackendRegistry,
        scheduler: Scheduler,
        *,
        settings: Callable[[], GuiSettings],
        sending: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._view = view
        self._backends = backends
        self._scheduler = scheduler
        self._settings = settings
        self._sending = sending
        self._clock = clock
        # Per backend: when its node was last woken or answered (the idle period's start).
        self._up_since: dict[str, float] = {}
        self._waking: set[str] = set()

    def typed(self) -> None:
        """A key in the PromptBox (on the Tk thread): wake the node unless it is known up."""
        settings = self._settings()
        name = settings.backend
        if not settings.wake_ahead or self._sending() or name in self._waking:
            return
        if not self._backends.entry(name).can_wake or self._within_idle_period(name, settings):
            return
        self._up_since[name] = self._clock()
        self._waking.add(name)
        idle = settings.idle_minutes
        log_event("wake", name, idle_minutes=idle)
        self._scheduler.run(
            lambda: self._backends.get(name).wake(idle),
            lambda phase: self._woken(name, phase),
            lambda error: self._failed(name, error),
        )

    def node_used(self) -> None:
        """A send settled: the node stays up an idle period from now."""
        self._up_since[self._settings().backend] = self._clock()

    def _within_idle_period(self, name: str, settings: GuiSettings) -> bool:
        since = self._up_since.get(name)
        return since is not None and self._clock() - since < settings.idle_minutes * 60

    def _woken(self, name: str, phase: NodePhase) -> None:
        self._waking.discard(name)
        log_event("woken", name, node=phase)
        if name == self._settings().backend:
            self._view.set_node(f"Node: {phase}")

    def _failed(self, name: str, error: Exception) -> None:
        # Quietly: the prompt, when it comes, wakes the node and reports what fails.
        self._waking.discard(name)
        log_event("wake_failed", name, level=logging.WARNING, error=type(error).__name__)
