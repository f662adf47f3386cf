"""The import report: per file its mode, outcome, counts per action and every problem found.

Problems are listed as (file, line, column, value, reason), capped per file; the count of the rest
is kept. Line 1 is a file's header; line 0 stands for the file as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ISSUE_CAP = 100
ACTIONS = ("created", "updated", "deleted", "unchanged", "rejected")


@dataclass(frozen=True)
class Issue:
    file: str
    line: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        column = f" {self.column}" if self.column else ""
        value = f" {self.value!r}" if self.value else ""
        return f"{where}{column}{value}: {self.reason}"


@dataclass
class FileReport:
    filename: str
    mode: str = "absent"
    outcome: str = "pending"  # imported | rejected | held | absent | ignored | pending
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    issues: list[Issue] = field(default_factory=list)
    issue_count: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def more_issues(self) -> int:
        return self.issue_count - len(self.issues)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "mode": self.mode,
            "outcome": self.outcome,
            "rows": self.rows,
            "counts": dict(self.counts),
            "issues": [i.as_dict() for i in self.issues],
            "moreIssues": self.more_issues,
            "warnings": list(self.warnings),
        }


@dataclass
class ImportReport:
    status: str = "pending"  # applied | rejected | held | dry-run | failed
    dry_run: bool = False
    files: dict[str, FileReport] = field(default_factory=dict)
    message: str = ""

    def file(self, filename: str) -> FileReport:
        if filename not in self.files:
            self.files[filename] = FileReport(filename)
        return self.files[filename]

    def add(self, issue: Issue) -> None:
        report = self.file(issue.file)
        report.issue_count += 1
        if len(report.issues) < ISSUE_CAP:
            report.issues.append(issue)

    @property
    def ok(self) -> bool:
        return not any(f.issue_count for f in self.files.values())

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(ACTIONS, 0)
        for f in self.files.values():
            for action, n in f.counts.items():
                totals[action] += n
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "dryRun": self.dry_run,
            "message": self.message,
            "totals": self.totals(),
            "files": [f.as_dict() for f in self.files.values()],
        }
