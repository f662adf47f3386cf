"""The README's table of served Ed-Fi resources is what tools/edfi_resources.py generates from the
data (definitions, authorization rules, claim sets): never hand-kept."""

from __future__ import annotations

from gateway.edfi.definitions import registry
from gateway.paths import ROOT
from tests.conftest import load_module

TOOL = load_module(ROOT / "tools" / "edfi_resources.py", "edfi_resources_tool")


def test_the_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert TOOL.section() in readme, "run: .venv/bin/python tools/edfi_resources.py --write"


def test_the_table_lists_every_served_resource_with_its_rule():
    rows = [line for line in TOOL.table().splitlines() if line.startswith("| `")]
    served = [r for r in registry().resources.values() if not r.descriptor]
    assert len(rows) == len(served) == 128
    by_name = {row.split("`")[1]: row for row in rows}
    # its school and its student (through the student's school associations), both
    assert (
        "| `schoolId` **and** studentSchoolAssociations.`schoolId`"
        in by_name["studentSchoolAttendanceEvents"]
    )
    assert "| `schoolId` |" in by_name["studentSchoolAssociations"]
    assert "studentSchoolAssociations.`schoolId`" in by_name["studentAssessments"]
    assert "| namespace | namespace |" in by_name["assessmentItems"]
