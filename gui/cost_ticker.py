"""CostLabel's controller: GET /cost (and the nodes' phases) every 30 s, seed 1.1.5.

It pauses while the node cold-starts (seed 1.3: no polling then, so no throttling and no
false alarms), and a backend without a cost figure reads "n/a", never a made-up number.
"""

from __future__ import annotations

from collections.abc import Callable

from gui.backend import Fleet
from gui.backend_errors import BackendError
from gui.backends import BackendRegistry
from gui.log import log_event
from gui.scheduler import Cancel, Scheduler
from gui.view import ChatView
from tlfif.contracts import CostView, NodeInfo

INTERVAL_SECONDS = 30.0
NOT_AVAILABLE = "Cost: n/a"


def age_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"


def cost_text(view: CostView) -> str:
    if view.estimate is None:
        return "Cost: no figure published yet"
    estimate = view.estimate
    age = age_text(estimate.age_seconds)
    return f"Cost: €{estimate.eur:.2f} this month (estimate, {age} old)"


def node_text(fleet: Fleet) -> str:
    """The node label: the phase, or with several nodes each one's, in id order
    ("2 GPUs: ready (1 job), booting")."""
    if len(fleet.nodes) < 2:
        return f"Node: {fleet.phase}"
    return f"{len(fleet.nodes)} GPUs: " + ", ".join(_node_words(node) for node in fleet.nodes)


def _node_words(node: NodeInfo) -> str:
    if not node.active:
        return node.phase
    return f"{node.phase} ({node.active} job{'s' if node.active > 1 else ''})"


def paused_text(view: CostView | None) -> str:
    figure = f"€{view.estimate.eur:.2f}" if view and view.estimate else "…"
    return f"Cost: {figure} (paused while the node starts)"


class CostTicker:
    def __init__(
        self,
        view: ChatView,
        backends: BackendRegistry,
        scheduler: Scheduler,
        *,
        current_backend: Callable[[], str],
        cold_starting: Callable[[], bool],
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self._view = view
        self._backends = backends
        self._scheduler = scheduler
        self._current = current_backend
        self._cold_starting = cold_starting
        self._interval = interval
        self._cancel: Cancel | None = None
        self._fetching = False
        self._last: CostView | None = None

    def tick(self) -> None:
        """Show the figure now (if the backend has one) and come back in 30 s."""
        self._schedule_next()
        name = self._current()
        entry = self._backends.entry(name)
        if not entry.has_cost:
            self._view.set_cost(NOT_AVAILABLE)
            self._view.set_node("Node: n/a")
            return
        if self._cold_starting():
            self._view.set_cost(paused_text(self._last))
            return
        if self._fetching:
            return
        self._fetching = True

        def fetch() -> tuple[CostView, Fleet]:
            backend = self._backends.get(name)
            return backend.cost(), backend.fleet()

        self._scheduler.run(
            fetch, lambda got: self._fetched(name, *got), lambda error: self._failed(name, error)
        )

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    def _schedule_next(self) -> None:
        self.stop()
        self._cancel = self._scheduler.later(self._interval, self.tick)

    def _fetched(self, name: str, cost: CostView, fleet: Fleet) -> None:
        self._fetching = False
        if name != self._current():
            return  # switched meanwhile: this figure belongs to the other backend
        self._last = cost
        self._view.set_cost(cost_text(cost))
        self._view.set_node(node_text(fleet))

    def _failed(self, name: str, error: Exception) -> None:
        self._fetching = False
        log_event("cost_failed", name, error=type(error).__name__)
        if name != self._current():
            return
        reason = error.detail if isinstance(error, BackendError) else str(error)
        self._view.set_cost(f"Cost: unavailable ({name}: {reason[:80]})")
