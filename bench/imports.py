"""Cold import time of each Lambda handler module next to `import boto3` alone.

A Lambda's init phase pays for its handler's imports (and, for the router, building the
app at import). Each import runs in a fresh interpreter, which times only the import
itself (interpreter start excluded), in interleaved rounds; the figure is the median and
its ratio to boto3 (ARCHITECTURE.md: "boto3 190 ms", the reason the router avoids it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import conditions, ratio, spread, write_results

ROUNDS = 7
TIMEOUT_SECONDS = 60.0
REPO = Path(__file__).resolve().parent.parent

# Fake settings, enough to import every handler; nothing may reach the network: AWS calls
# would go to the discard port, and the JWKS URL too (neither is called at import).
BASE_ENV = {
    "TLFIF_REGION": "eu-central-1",
    "TLFIF_REDIS_URL": "redis://127.0.0.1:9/0",
    "TLFIF_ROUTER_COGNITO_ISSUER": "https://cognito-idp.eu-central-1.amazonaws.com/bench",
    "TLFIF_ROUTER_CLIENT_IDS": "bench-client",
    "TLFIF_ROUTER_JWKS_URL": "http://127.0.0.1:9/jwks.json",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TLFIF",
}

# The child times the import alone and prints, as its last line, the milliseconds and
# whether boto3 came in with it (the router must not pull it in on import).
CHILD = (
    "import importlib, json, sys, time\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "ms = (time.perf_counter() - t) * 1000\n"
    "print(json.dumps({'ms': ms, 'boto3_loaded': 'boto3' in sys.modules}))\n"
)


@dataclass(frozen=True)
class Subject:
    label: str
    module: str
    env: dict[str, str]


SUBJECTS = [
    Subject("boto3", "boto3", {}),
    Subject("router.handler (gateway claims)", "router.handler",
            {"TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS": "true"}),
    Subject("router.handler (verifies tokens)", "router.handler",
            {"TLFIF_ROUTER_TRUST_GATEWAY_CLAIMS": "false"}),
    Subject("queue_health.handler", "queue_health.handler", {}),
    Subject("cost_publisher.handler", "cost_publisher.handler", {}),
    Subject("budget_killer.handler", "budget_killer.handler", {}),
    Subject("scheduled_check.handler", "scheduled_check.handler", {}),
    Subject("webhook_sender.handler", "webhook_sender.handler", {}),
]  # fmt: skip


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The developer's environment without their TLFIF_*/AWS_*/POWERTOOLS_* settings."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TLFIF_", "AWS_", "POWERTOOLS_", "PYTHONDONTWRITEBYTECODE"))
    }
    return kept | BASE_ENV | extra


def timed_import(subject: Subject) -> tuple[float, bool]:
    """Milliseconds the import took in a fresh interpreter, and whether boto3 came with it."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, subject.module],
        env=child_env(subject.env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {subject.module} failed:\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return float(answer["ms"]), bool(answer["boto3_loaded"])


def run() -> Path:
    started = conditions()
    # One untimed round first: .pyc files compiled and the page cache warm for every
    # subject alike, as in the zips tools/package_lambdas.py builds (byte-compiled).
    loads_boto3 = {subject.label: timed_import(subject)[1] for subject in SUBJECTS}
    samples: dict[str, list[float]] = {s.label: [] for s in SUBJECTS}
    for round_no in range(ROUNDS):
        # Rotate the order each round, so no subject always runs right after another.
        shift = round_no % len(SUBJECTS)
        for subject in SUBJECTS[shift:] + SUBJECTS[:shift]:
            samples[subject.label].append(timed_import(subject)[0])
    boto3_median = spread(samples["boto3"])["median"]
    figures: dict[str, Any] = {}
    for subject in SUBJECTS:
        stats = spread(samples[subject.label])
        figures[subject.label] = {
            "module": subject.module,
            "env": subject.env,
            "import_ms": stats,
            "boto3_loaded_by_import": loads_boto3[subject.label],
            "ratio_to_boto3_median": ratio(stats["median"], boto3_median),
        }
    method = {
        "rounds": ROUNDS,
        "interleaved": "every subject once per round, order rotated each round",
        "timed": "importlib.import_module in a fresh interpreter (start-up excluded)",
        "warm_up": "one untimed round first (bytecode compiled, page cache warm)",
    }
    path = write_results("imports", {"method": method, "subjects": figures}, started)
    print(f"imports ({ROUNDS} interleaved rounds, median ms, ratio to boto3):")
    for label, entry in figures.items():
        print(
            f"  {label:34} {entry['import_ms']['median']:8.1f} ms"
            f"  x{entry['ratio_to_boto3_median']:<6}"
            f"  {'imports boto3' if entry['boto3_loaded_by_import'] else ''}"
        )
    return path
