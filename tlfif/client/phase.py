"""What a waiting client shows: one phase of a job's way through a cold start.

The router reports the job (queued | running) and the node (stopped ... ready) apart; a
user wants one word: starting -> booting -> loading -> generating. CLI and GUI both read it here.
"""

from __future__ import annotations

from typing import Literal

from tlfif.contracts import Accepted, NodePhase, Pending

JobPhase = Literal[
    "queued", "starting", "booting", "loading", "generating", "engine_restarting", "stopping"
]

# A queued job's phase follows the node: while it is down, the job waits for the start.
PHASE_OF_NODE: dict[NodePhase, JobPhase] = {
    "stopped": "starting",
    "starting": "starting",
    "booting": "booting",
    "loading": "loading",
    "ready": "queued",
    "engine_restarting": "engine_restarting",
    # The node stops after this poll; a pending job makes the next poll start it again.
    "stopping": "stopping",
}

DESCRIPTION: dict[JobPhase, str] = {
    "queued": "queued, waiting for the node",
    "starting": "starting the node",
    "booting": "the node is booting",
    "loading": "the node is loading the model",
    "generating": "generating",
    "engine_restarting": "the engine stopped and is restarting; the prompt is kept",
    "stopping": "the node is stopping; it will start again for this prompt",
}


def phase_of_pending(pending: Pending) -> JobPhase:
    if pending.node == "engine_restarting":
        return "engine_restarting"  # a running job waits for the engine too
    if pending.status == "running":
        return "generating"
    return PHASE_OF_NODE[pending.node]


def phase_of_accepted(accepted: Accepted) -> JobPhase:
    return "starting" if accepted.status == "starting" else "queued"


# The owner's manual hold keeps the node stopped for everyone else: their prompts wait.
HELD_NOTE = (
    "the node is held stopped by the deployment's owner: the prompt is queued and waits "
    "until the owner sends one or lifts the hold (or it expires)"
)


def accepted_note(accepted: Accepted) -> str | None:
    """Why the node will not answer soon, in words, when the 202 says so; else None."""
    if accepted.hold == "manual":
        return HELD_NOTE
    if accepted.node_error:
        return f"the node did not start yet ({accepted.node_error}); the job stays queued"
    return None
