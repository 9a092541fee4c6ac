"""EmfMetrics: each count is one CloudWatch EMF JSON line on stdout."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tlfif.runtime.metrics import EmfMetrics


def emf_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_count_prints_one_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    EmfMetrics(service="watcher").count("AutoStops")
    [line] = emf_lines(capsys.readouterr().out)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "TLFIF"
    assert directive["Metrics"] == [{"Name": "AutoStops", "Unit": "Count"}]
    assert directive["Dimensions"] == [["service"]]
    # EMF allows a metric value to be a list of samples; powertools always writes one.
    assert line["AutoStops"] == [1.0]
    assert line["service"] == "watcher"
    assert isinstance(line["_aws"]["Timestamp"], int)


def test_each_count_is_flushed_as_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = EmfMetrics(service="router", namespace="TLFIF")
    metrics.count("JobsQueued", 2)
    metrics.count("ColdStarts")
    first, second = emf_lines(capsys.readouterr().out)
    assert first["JobsQueued"] == [2.0]
    assert second["ColdStarts"] == [1.0]
    assert first["service"] == second["service"] == "router"


def test_record_writes_a_value_without_a_unit(capsys: pytest.CaptureFixture[str]) -> None:
    EmfMetrics(service="cost_publisher").record("CurrentSpendEUR", 12.5)
    [line] = emf_lines(capsys.readouterr().out)
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "CurrentSpendEUR", "Unit": "None"}
    ]
    assert line["CurrentSpendEUR"] == [12.5]
