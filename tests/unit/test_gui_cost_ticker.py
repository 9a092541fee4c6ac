"""gui/cost_ticker.py: GET /cost every 30 s with the figure's age, paused while the node
cold-starts, and "n/a" (never a made-up figure) for a backend without one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gui.backend import AWS_TINYLLAMA, OPENAI
from gui.backend_errors import BackendTransient
from gui.backends import BackendEntry, BackendRegistry
from gui.cost_ticker import INTERVAL_SECONDS, CostTicker, age_text
from tests.doubles.gui_doubles import (
    BackendDouble,
    ChatViewDouble,
    InlineSchedulerDouble,
    cost_view,
)
from tlfif.contracts import CostView, NodeInfo


@dataclass
class Harness:
    view: ChatViewDouble
    scheduler: InlineSchedulerDouble
    aws: BackendDouble
    ticker: CostTicker
    backend: list[str]
    cold: list[bool]


@pytest.fixture
def h() -> Harness:
    view, scheduler = ChatViewDouble(), InlineSchedulerDouble()
    aws = BackendDouble()
    openai = BackendDouble(name=OPENAI, can_stop=False, has_cost=False)
    registry = BackendRegistry(
        [
            BackendEntry(AWS_TINYLLAMA, can_stop=True, has_cost=True, build=lambda: aws),
            BackendEntry(OPENAI, can_stop=False, has_cost=False, build=lambda: openai),
        ]
    )
    backend, cold = [AWS_TINYLLAMA], [False]
    ticker = CostTicker(
        view,
        registry,
        scheduler,
        current_backend=lambda: backend[0],
        cold_starting=lambda: cold[0],
    )
    return Harness(view, scheduler, aws, ticker, backend, cold)


def test_the_live_estimate_is_shown_with_its_age_and_the_node_state(h: Harness) -> None:
    h.aws.costs = [cost_view(eur=3.17, age_seconds=42)]
    h.aws.node = "ready"
    h.ticker.tick()
    assert h.view.cost == "Cost: €3.17 this month (estimate, 42 s old)"
    assert h.view.node == "Node: ready"


def test_several_nodes_are_each_shown_with_their_phase_and_jobs(h: Harness) -> None:
    h.aws.node = "ready"
    h.aws.nodes = (
        NodeInfo(node="i-0a", phase="ready", active=1),
        NodeInfo(node="i-0b", phase="booting"),
        NodeInfo(node="i-0c", phase="ready", active=3),
    )
    h.ticker.tick()
    assert h.view.node == "3 GPUs: ready (1 job), booting, ready (3 jobs)"


def test_one_node_keeps_the_one_word(h: Harness) -> None:
    h.aws.node = "loading"
    h.aws.nodes = (NodeInfo(node="i-0a", phase="loading"),)
    h.ticker.tick()
    assert h.view.node == "Node: loading"


def test_it_asks_again_every_30_seconds(h: Harness) -> None:
    h.aws.costs = [cost_view(eur=1.0), cost_view(eur=1.5)]
    h.ticker.tick()
    assert [seconds for seconds, _ in h.scheduler.timers] == [INTERVAL_SECONDS]
    h.scheduler.fire()
    assert h.view.cost.startswith("Cost: €1.50")
    assert len(h.scheduler.timers) == 1  # one timer at a time, never a pile-up


def test_polling_pauses_while_the_node_cold_starts(h: Harness) -> None:
    h.aws.costs = [cost_view(eur=2.0)]
    h.ticker.tick()
    h.cold[0] = True
    h.scheduler.fire()
    assert h.view.cost == "Cost: €2.00 (paused while the node starts)"
    assert h.aws.costs == []  # no second request was made
    h.cold[0] = False
    h.aws.costs = [cost_view(eur=2.5)]
    h.scheduler.fire()
    assert h.view.cost.startswith("Cost: €2.50")


def test_a_backend_without_a_cost_figure_reads_na(h: Harness) -> None:
    h.backend[0] = OPENAI
    h.ticker.tick()
    assert (h.view.cost, h.view.node) == ("Cost: n/a", "Node: n/a")


def test_a_figure_that_arrives_after_a_switch_is_not_shown(h: Harness) -> None:
    h.scheduler.hold = True
    h.ticker.tick()  # AWS asked...
    h.backend[0] = OPENAI
    h.ticker.tick()  # ...the user switched
    h.scheduler.finish()
    assert h.view.cost == "Cost: n/a"


def test_no_figure_published_yet_says_so(h: Harness) -> None:
    h.aws.costs = [CostView(billed=None, estimate=None)]
    h.ticker.tick()
    assert h.view.cost == "Cost: no figure published yet"


def test_a_failed_request_says_unavailable_naming_the_backend(h: Harness) -> None:
    h.aws.costs = [BackendTransient(AWS_TINYLLAMA, "HTTP 502 from the gateway")]
    h.ticker.tick()
    assert h.view.cost == f"Cost: unavailable ({AWS_TINYLLAMA}: HTTP 502 from the gateway)"


def test_stop_cancels_the_next_tick(h: Harness) -> None:
    h.ticker.tick()
    h.ticker.stop()
    assert h.scheduler.timers == []


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (89, "89 s"), (90, "2 min"), (3600, "60 min"), (7200, "2 h")]
)
def test_ages_read_naturally(seconds: int, text: str) -> None:
    assert age_text(seconds) == text
