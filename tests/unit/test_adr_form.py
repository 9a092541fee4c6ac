"""Every ADR has one form (issue 20, item 7): `# ADR NNNN: title` matching its file name,
a `Status:` line that says accepted, superseded or proposed and when, then Context, Decision
and Consequences in that order (Options, where weighed, between Context and Decision)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ADR_DIR = Path(__file__).resolve().parents[2] / "docs" / "adr"
ADRS = sorted(ADR_DIR.glob("[0-9][0-9][0-9][0-9]-*.md"))
STATUS = re.compile(r"^Status: (accepted|superseded|proposed|deprecated)\b.*\(\d{4}-\d{2}-\d{2}\)")
SECTIONS = ("## Context", "## Decision", "## Consequences")


def test_there_are_adrs_and_each_number_once() -> None:
    numbers = [path.name[:4] for path in ADRS]
    assert len(ADRS) > 20 and len(numbers) == len(set(numbers))
    assert all(path.suffix == ".md" for path in ADR_DIR.iterdir() if path.is_file())


@pytest.mark.parametrize("path", ADRS, ids=[path.name[:4] for path in ADRS])
def test_an_adr_has_the_one_form(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert re.match(rf"^# ADR {path.name[:4]}: \S", lines[0]), "title: # ADR NNNN: ..."
    status = next((line for line in lines[1:6] if line.startswith("Status:")), "")
    assert STATUS.match(status), f"status line: {status!r}"
    headings = [line.strip() for line in lines if line.startswith("## ")]
    found = [heading for heading in headings if heading in SECTIONS]
    assert found == list(SECTIONS), f"sections {headings}"
    allowed = {*SECTIONS, "## Options"}
    assert set(headings) <= allowed, f"sections beyond the form: {set(headings) - allowed}"
    if "## Options" in headings:
        assert (
            headings.index("## Context")
            < headings.index("## Options")
            < headings.index("## Decision")
        )
