"""tlfif/silent.py: a node counts as silent once it has run past the boot grace with no
heartbeat; a beating node or one just started never does."""

from __future__ import annotations

from tlfif.nodes import Heartbeat
from tlfif.silent import BOOT_GRACE_SECONDS, silent_nodes

NOW = 10_000_000
GRACE_MS = BOOT_GRACE_SECONDS * 1000


def beat(node: str) -> Heartbeat:
    return Heartbeat(node=node, state="ready", ts_ms=NOW)


def test_past_the_grace_with_no_heartbeat_is_silent() -> None:
    running = {"i-b": NOW - GRACE_MS - 1, "i-a": NOW - GRACE_MS}
    assert silent_nodes(running, [], NOW) == ["i-a", "i-b"]


def test_a_node_still_booting_is_not() -> None:
    assert silent_nodes({"i-a": NOW - GRACE_MS + 1}, [], NOW) == []


def test_a_beating_node_is_not_and_others_still_count() -> None:
    running = {"i-a": NOW - 2 * GRACE_MS, "i-b": NOW - 2 * GRACE_MS}
    assert silent_nodes(running, [beat("i-a")], NOW) == ["i-b"]


def test_no_node_running_is_none_silent() -> None:
    assert silent_nodes({}, [beat("i-gone")], NOW) == []


def test_the_grace_is_a_parameter() -> None:
    assert silent_nodes({"i-a": NOW - 61_000}, [], NOW, grace_seconds=60) == ["i-a"]
