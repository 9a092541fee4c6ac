"""`tlfif cost` and `tlfif cost --json` as the issue specifies them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tlfif_cli import main

ENVS = Path(__file__).resolve().parents[2] / "infra" / "envs"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["cost", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_the_fields_the_issue_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--json")
    assert code == 0 and err == ""
    body = json.loads(out)
    assert isinstance(body["idle_floor_eur_month"], float)
    assert body["sessions"]["count"] == 30 and body["sessions"]["minutes"] == 5
    assert body["sessions"]["eur_month"] >= body["idle_floor_eur_month"]
    seed = body["seed_design"]
    assert {"idle_floor_eur_month", "sessions"} <= set(seed)
    assert seed["idle_floor_eur_month"] > body["idle_floor_eur_month"]
    assert body["prices"]["region"] == "eu-central-1"
    assert body["goals_met"] == {"idle_floor_le_12": True, "all_in_le_16": True}
    # A wake-ahead no prompt follows (ADR 0029): a figure beside the bill, not in it.
    assert body["unused_wake"] == {"node_minutes": 7.0, "eur": 0.0703}
    assert [note for note in body["not_priced"] if "SMS" in note]


def test_count_and_minutes_are_settable(capsys: pytest.CaptureFixture[str]) -> None:
    _, base, _ = run(capsys, "--json")
    code, out, _ = run(capsys, "--json", "--sessions", "60", "--minutes", "10")
    assert code == 0
    body, before = json.loads(out), json.loads(base)
    assert body["sessions"]["count"] == 60 and body["sessions"]["minutes"] == 10
    assert body["idle_floor_eur_month"] == before["idle_floor_eur_month"]
    assert body["sessions"]["eur_month"] > before["sessions"]["eur_month"]


def test_no_free_tier_prints_list_prices(capsys: pytest.CaptureFixture[str]) -> None:
    _, free, _ = run(capsys, "--json")
    _, listed, _ = run(capsys, "--json", "--no-free-tier")
    assert json.loads(listed)["free_tier_applied"] is False
    assert json.loads(listed)["idle_floor_eur_month"] > json.loads(free)["idle_floor_eur_month"]


def test_another_tfvars_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", "--tfvars", str(ENVS / "dev.tfvars"))
    assert code == 0
    assert json.loads(out)["tfvars"].endswith("dev.tfvars")


def test_table_names_each_resource_and_the_seed_side(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    for text in (
        "TL-FIF as deployed",
        "The seed's own diagram",
        "GPU node",
        "NAT gateway",
        "Cost Explorer",
        "public IPv4",
        "always-free allowances",
        "idle floor EUR",
        "Each unused wake-ahead",
        "webhook sender",
        "replies topic",
        "billed per SMS",
    ):
        assert text in out, text
    assert "= 7 min of the node): EUR 0.07;" in " ".join(out.split())


def test_bad_arguments_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--sessions", "lots")
    assert code == 2 and out == "" and "Traceback" not in err
    code, _, err = run(capsys, "--tfvars", "/nonexistent.tfvars")
    assert code != 0 and err.startswith("tlfif: cannot read")


def test_nodes_default_to_the_tfvars_and_one_more_is_priced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "--json")
    body = json.loads(out)
    assert code == 0
    assert body["nodes"]["count"] == 1 and body["nodes"]["from"] == "node_count_max"
    assert body["nodes"]["one_more_node_idle_eur_month"] == 2.17
    assert (body["idle_floor_eur_month"], body["sessions"]["eur_month"]) == (
        11.56,
        15.72,
    )  # ADR 0033: +0.64
    assert body["session_node_minutes"] == 12.0


def test_nodes_flag_prints_the_month_with_n_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", "--nodes", "2")
    body = json.loads(out)
    assert code == 0
    assert body["nodes"]["count"] == 2 and body["nodes"]["from"] == "--nodes"
    assert "burst" in body["nodes"]["sessions_assume"]
    assert (body["idle_floor_eur_month"], body["sessions"]["eur_month"]) == (13.73, 20.00)
    assert body["session_node_minutes"] == 19.0  # 5 work + 2 x (2 boot + 5 idle)
    code, out, _ = run(capsys, "--nodes", "2")
    assert code == 0 and "TL-FIF as deployed, 2 nodes" in out
    assert "Nodes: 2 (--nodes)" in " ".join(out.split())


def test_nodes_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--nodes", "9")
    assert code == 2 and out == "" and "Traceback" not in err and len(err.splitlines()) == 1
