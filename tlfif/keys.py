"""Every Redis key TL-FIF uses, in one place.

All keys carry the hash tag {tlfif}, so every key lands in one cluster slot and the
multi-key Lua scripts and BLMOVE work unchanged on cluster-mode Redis (ElastiCache
Serverless), where a command may only touch keys of one slot.
"""

from __future__ import annotations

import hashlib
import re

TAG = "{tlfif}"

PENDING = f"{TAG}:pending"
NODES = f"{TAG}:nodes"
HOLD = f"{TAG}:hold"
START_LOCK = f"{TAG}:lock:start"
EC2_STATE = f"{TAG}:ec2state"
# Each tagged instance's EC2 state as last seen (a hash), for /status's per-node phases.
EC2_STATES = f"{TAG}:ec2states"
# Exists while a node started for a backlog boots: no second scale-out before it beats.
SCALED_OUT = f"{TAG}:scaled_out"
START_ERROR = f"{TAG}:start_error"
# The latest wake-ahead (POST /wake): its idle minutes, for the watcher's idle timer.
WAKE = f"{TAG}:wake"
# Cost and the scheduled check (tlfif/spend.py, tlfif/uptime.py, tlfif/idle_net.py).
COST = f"{TAG}:cost"  # the billed month-to-date figure GET /cost reads
COST_EXPLORER_SLOT = f"{TAG}:cost:explorer"  # exists while a Cost Explorer call is not due
UPTIME = f"{TAG}:uptime"  # the node's running sessions, as the scheduled check saw them
ACTIVITY = f"{TAG}:activity"  # the node's last sign of use, for the idle safety net

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_UUID4_RE = re.compile(f"^{UUID4}$")


def is_job_id(value: str) -> bool:
    return bool(_UUID4_RE.match(value))


def job(job_id: str) -> str:
    return f"{TAG}:job:{job_id}"


def owner(job_id: str) -> str:
    return f"{TAG}:owner:{job_id}"


def done(job_id: str) -> str:
    return f"{TAG}:done:{job_id}"


def cancel(job_id: str) -> str:
    """Exists once the job's submitter asked to cancel it (lua/cancel.lua): a node reads it
    at claim and between tokens."""
    return f"{TAG}:cancel:{job_id}"


def tokens(job_id: str) -> str:
    """The job's text while it is generated (a stream; tlfif/tokens.py)."""
    return f"{TAG}:tokens:{job_id}"


def streams(job_id: str) -> str:
    """How many /v1 streams followed the job: a disconnected one cancels it only if no
    retry opened another within the grace (router/v1/stream.py)."""
    return f"{TAG}:streams:{job_id}"


def inflight(node: str) -> str:
    return f"{TAG}:inflight:{node}"


def node(node_id: str) -> str:
    return f"{TAG}:node:{node_id}"


def idempotency(sub: str, key: str) -> str:
    """The client's key hashed with its sub: a key is any 255 characters of the client's
    choosing, and spliced in raw, "a:b" + "c" and "a" + "b:c" would meet."""
    digest = hashlib.sha256(f"{sub}\0{key}".encode()).hexdigest()
    return f"{TAG}:idem:{digest}"


def user_pending(sub: str) -> str:
    return f"{TAG}:userpending:{sub}"


def woken(sub: str) -> str:
    """Exists for a wake's idle period after `sub` woke the node: the prompt that follows
    consumes it (the WakesFollowed metric)."""
    return f"{TAG}:woken:{sub}"


def throttle(sub: str, bucket: str) -> str:
    return f"{TAG}:throttle:{bucket}:{sub}"


def budget_alert(message_id: str) -> str:
    """An AWS Budgets alert (SNS MessageId) the budget killer has acted on."""
    return f"{TAG}:budgetalert:{message_id}"


def api_key(key_hash: str) -> str:
    """An API key's owner, cached from the store (or "-": no such key; tlfif/key_ring.py)."""
    return f"{TAG}:apikey:{key_hash}"


def api_key_used(key_hash: str) -> str:
    """Exists for a minute after an API key's last use was written: the write's gate."""
    return f"{TAG}:apikeyused:{key_hash}"
