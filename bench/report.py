"""What every benchmark writes: its figures, the conditions they were taken under, and
the results file (bench/results/<name>.json) that is the evidence for a claim."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


def conditions() -> dict[str, Any]:
    """The machine as it is now: a figure means little without the load it ran under."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in (0, 1]): a value that was actually measured."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def spread(samples: list[float]) -> dict[str, float | int]:
    """n, median, p50/p95/p99, min and max of `samples`, rounded for reading."""
    return {
        "n": len(samples),
        "median": round(statistics.median(samples), 3),
        "p50": round(percentile(samples, 0.50), 3),
        "p95": round(percentile(samples, 0.95), 3),
        "p99": round(percentile(samples, 0.99), 3),
        "min": round(min(samples), 3),
        "max": round(max(samples), 3),
    }


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def write_results(name: str, figures: dict[str, Any], started: dict[str, Any]) -> Path:
    """bench/results/<name>.json: the conditions at start and at end, then the figures."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {"benchmark": name, "conditions": started, "conditions_at_end": conditions()}
    path.write_text(json.dumps(document | figures, indent=2) + "\n", "utf-8")
    return path
