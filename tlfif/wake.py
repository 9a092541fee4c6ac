"""Waking the node: decide from Redis whether it is up, and start it only if not.

The warm path is Redis alone: a live heartbeat or a freshly cached EC2 state answers
without any AWS call (a DescribeInstances alone costs more than the router's 60 ms budget).
Only when neither says the node is coming, and under a short Redis lock so that a burst
of requests makes one call, does it ask EC2 and start the instance.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from tlfif.contracts import NodePhase, WakeNote, now_ms
from tlfif.errors import BudgetHold, NodeControlError, NodeStartRefused, WakeHeld
from tlfif.nodes import NodeRegistry, NodeView, fleet_state, node_phase
from tlfif.ports import InstanceState, Metrics, NodeControl
from tlfif.queue import BUDGET_MESSAGE
from tlfif.settings import CommonSettings

log = logging.getLogger(__name__)

# How long a node started for a backlog may take to beat before another may be started:
# a g4dn boots and loads vLLM in ~90 s.
SCALE_OUT_HOLD_SECONDS = 120
# Phases of a node that is up or on its way: nothing to start.
UP_PHASES: frozenset[NodePhase] = frozenset(
    {"starting", "booting", "loading", "ready", "engine_restarting"}
)


def seconds_until_ready(
    phase: NodePhase, waited_seconds: float, *, cold_eta: int, warm_eta: int
) -> int:
    """How long a job that has waited `waited_seconds` likely still waits for its node: on
    a ready node the warm estimate; on one still coming up (or going down, to be started
    again) the cold-start estimate less what it waited already, never below the warm one.
    The job's own wait stands in for the node's: every new prompt wakes a stopped node."""
    if phase == "ready":
        return warm_eta
    return max(warm_eta, math.ceil(cold_eta - waited_seconds))


@dataclass(frozen=True)
class Scaling:
    """How many nodes may run, and the backlog per beating node that starts another
    (CommonSettings' node_count_max and scale_out_backlog, ADR 0032)."""

    node_count_max: int = 1
    backlog: int = 8
    hold_seconds: int = SCALE_OUT_HOLD_SECONDS

    @classmethod
    def of(cls, common: CommonSettings) -> Scaling:
        return cls(common.node_count_max, common.scale_out_backlog)


@dataclass(frozen=True)
class Wake:
    phase: NodePhase
    started: bool = False  # this call issued StartInstances
    error: str | None = None  # why the node could not be started (the job stays queued)
    # What kept the node stopped: a manual hold, or an engine failure (both lifted by the
    # next prompt).
    held: str | None = None


class NodeWaker:
    def __init__(
        self,
        registry: NodeRegistry,
        node_control: Callable[[], NodeControl],
        metrics: Metrics,
        *,
        state_cache_seconds: int = 15,
        lock_seconds: int = 10,
        scaling: Scaling | None = None,
    ) -> None:
        self.registry = registry
        self._node_control = node_control
        self._control: NodeControl | None = None
        self.metrics = metrics
        self.state_cache_seconds = state_cache_seconds
        self.lock_seconds = lock_seconds
        self.scaling = scaling or Scaling()

    @property
    def control(self) -> NodeControl:
        # Built on first use: the adapter imports boto3, which the warm path never needs.
        if self._control is None:
            self._control = self._node_control()
        return self._control

    async def phase(self) -> NodePhase:
        """The node's phase from Redis alone (heartbeats + cached EC2 state)."""
        return (await self.registry.view()).phase

    async def ensure_awake(
        self, *, for_new_prompt: bool = False, view: NodeView | None = None
    ) -> Wake:
        """Start the node if it is down. Raises BudgetHold while the budget hold is set.

        A manual hold (the owner's POST /stop) keeps it stopped for everyone; the owner's
        next prompt lifts the hold before it calls here. After an engine failure (the node
        stopped itself: starting it again for the same queue would loop a GPU) polls and
        the scheduled check leave it stopped, and a new prompt (for_new_prompt=True)
        starts it. `view`: the node as read already in this request (else it is read).
        """
        view = view or await self.registry.view()
        hold, phase = view.hold, view.phase
        if hold == "budget":
            raise BudgetHold(
                "the monthly budget is reached: the GPU stays stopped until the owner lifts it"
            )
        if phase in UP_PHASES:
            return Wake(phase)
        if hold == "manual":
            return Wake(phase, held="manual")
        if not for_new_prompt:
            failure = await self.registry.start_error()
            if failure is not None and failure.kind == "engine":
                return Wake(phase, error=failure.message, held=failure.code)
        if not await self.registry.take_start_lock(self.lock_seconds):
            return Wake("starting" if phase == "stopped" else phase)
        try:
            return await self._start_if_stopped()
        finally:
            await self.registry.release_start_lock()

    async def _start_if_stopped(self) -> Wake:
        try:
            states = await asyncio.to_thread(self.control.instance_states)
            state = fleet_state(states)
            started = False
            if state == "stopped":
                state = await asyncio.to_thread(self.control.start)
                started = True
                self.metrics.count("EC2Starts")
                log.info("node start requested", extra={"ec2State": state})
                # The port starts the lowest-id stopped instance: /status lists it now.
                states[min(states)] = state
            await self.registry.remember_instance_states(states, self.state_cache_seconds)
        except (NodeStartRefused, NodeControlError) as exc:
            # Never swallowed: the job stays queued, /status shows which failure and when,
            # polls retry. AWS's own words (ARNs, the account) go to the log alone.
            await self.registry.record_failure("start", exc.code, exc.caller_message)
            log.warning("node start failed", extra={"reason": exc.message})
            return Wake(await self.phase(), error=exc.caller_message)
        await self.registry.remember_ec2_state(state, self.state_cache_seconds)
        if started:
            await self.registry.clear_start_error()
        return Wake(node_phase(await self.registry.heartbeats(), state), started=started)

    async def scale_out(self, view: NodeView, depth: int) -> bool:
        """Start one more node for a backlog (ADR 0032): when more than `scale_out_backlog`
        jobs wait per node that beats, fewer than `node_count_max` nodes beat, no hold is
        set and no node started for a backlog is still booting. Decided from `view` and
        Redis; EC2 is called only once it is decided, under the start lock. The queue is
        never refused for it: a failure is logged and the next check tries again."""
        scaling = self.scaling
        if scaling.node_count_max <= 1 or view.hold is not None:
            return False
        beating = {beat.node for beat in view.beats if beat.state != "stopping"}
        if not beating or len(beating) >= scaling.node_count_max:
            return False  # no node up: the first start is ensure_awake's
        if depth <= scaling.backlog * len(beating):
            return False
        if await self.registry.scaled_out_recently():
            return False
        if not await self.registry.take_start_lock(self.lock_seconds):
            return False
        try:
            if not await self.registry.take_scale_out(scaling.hold_seconds):
                return False
            try:
                state = await asyncio.to_thread(self.control.scale_out, scaling.node_count_max)
            except (NodeStartRefused, NodeControlError) as exc:
                log.warning("scale-out failed", extra={"reason": exc.message})
                return False
        finally:
            await self.registry.release_start_lock()
        if state is None:
            return False
        self.metrics.count("ScaleOuts")
        log.info(
            "another node started for the backlog",
            extra={"ec2State": state, "queueDepth": depth, "nodes": len(beating)},
        )
        return True

    async def wake_ahead(
        self, sub: str, idle_minutes: int, *, by_owner: bool, cold_eta_seconds: int
    ) -> Wake:
        """POST /wake: start the node for a prompt `sub` is about to send (ADR 0029).

        Refused under the budget hold as a prompt is (BudgetHold, the same words), and
        under the manual hold for anyone but the owner (WakeHeld), whose wake lifts it.
        The note tells the watcher the wake's idle minutes; it and `sub`'s marker (which
        the next prompt consumes, for WakesFollowed) last the boot and those minutes. A
        node whose engine failed stays stopped: a hint is not worth another failed boot,
        the prompt that follows starts it (ensure_awake).
        """
        view = await self.registry.view()
        if view.hold == "budget":
            raise BudgetHold(BUDGET_MESSAGE)
        lifted = False
        if view.hold == "manual":
            if not by_owner:
                raise WakeHeld(
                    "the owner's manual hold keeps the node stopped: only the owner may wake "
                    "it (a prompt you send is queued for the owner's next one)"
                )
            await self.registry.clear_manual_hold()
            lifted = True
        boot = 0 if view.phase == "ready" else cold_eta_seconds
        note = WakeNote(idle=idle_minutes, ts_ms=now_ms())
        await self.registry.note_wake(sub, note, boot + idle_minutes * 60)
        self.metrics.count("Wakes")
        return await self.ensure_awake(view=None if lifted else view)

    async def stop(self) -> InstanceState:
        """Stop the node now and set the manual hold, so polls do not restart it."""
        await self.registry.set_hold("manual")
        state = await asyncio.to_thread(self.control.stop)
        await self.registry.remember_fleet_stopped(state, self.state_cache_seconds)
        self.metrics.count("ManualStops")
        return state
