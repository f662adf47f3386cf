"""The OneRoster v1.1 CSV files, their columns and references, read from files.json.

Column lengths are not retyped: they come from the target table's definition, so validation rejects
a value the table could not store before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table

from gateway.db import Base
from gateway.oneroster import models  # noqa: F401  (registers the tables on Base.metadata)

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Column:
    name: str  # CSV header, e.g. "orgSourcedIds"
    column: str  # table column, e.g. "org_ids"
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    ref: str | None = None  # name of the file the reference points into
    max_length: int | None = None


@dataclass(frozen=True)
class CsvFile:
    name: str  # e.g. "users" (file users.csv, manifest property file.users)
    table: Table
    entity: str  # the REST entity name, e.g. "user" (used for organization reach)
    columns: tuple[Column, ...]
    org_columns: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}


@dataclass(frozen=True)
class Catalogue:
    files: tuple[CsvFile, ...]  # in apply order
    manifest: dict[str, Any]
    statuses: tuple[str, ...]
    required_in_delta: tuple[str, ...]

    def file(self, name: str) -> CsvFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)


def _length(table: Table, column: str) -> int | None:
    col_type = table.c[column].type
    return col_type.length if isinstance(col_type, String) else None


@cache
def catalogue() -> Catalogue:
    raw = json.loads((_HERE / "files.json").read_text(encoding="utf-8"))
    files = []
    for spec in raw["files"]:
        table = Base.metadata.tables[spec["table"]]
        columns = tuple(
            Column(
                name=c["name"],
                column=c["column"],
                type=c["type"],
                required=c.get("required", False),
                values=tuple(c.get("values", ())),
                ref=c.get("ref"),
                max_length=_length(table, c["column"]),
            )
            for c in spec["columns"]
        )
        files.append(
            CsvFile(
                spec["name"], table, spec["entity"], columns, tuple(spec.get("org_columns", ()))
            )
        )
    return Catalogue(
        files=tuple(files),
        manifest=raw["manifest"],
        statuses=tuple(raw["statuses"]),
        required_in_delta=tuple(raw["required_in_delta"]),
    )
