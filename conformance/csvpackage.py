"""OneRoster v1.1 CSV package suite, offline: `gateway-conformance csv PACKAGE.zip`.

Files are streamed (never loaded whole): one pass collects every file's sourcedIds, a second pass
checks each file row by row. Every problem names file, line and column.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from conformance.runner import CheckFailed, CheckList, Context, Suite, ensure, not_requested, skip
from conformance.schemas import oneroster_data

SPEC = oneroster_data("csv.json")
CEDS_GRADES = oneroster_data("base.json")["$defs"]["grades"]["items"]["enum"]
MAX_PROBLEMS = 50
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")
_USER_ID = re.compile(r"^\{[^:{}]+:[^{}]*\}$")
_YEAR = re.compile(r"^\d{4}$")


class Package:
    """A zip or a directory of CSV files, opened as UTF-8 text (a byte-order mark is allowed)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path) if self.path.is_file() else None
        names = (
            self.zip.namelist()
            if self.zip
            else [p.name for p in self.path.iterdir() if p.is_file()]
        )
        self.names = {Path(n).name: n for n in names if n.lower().endswith(".csv")}

    @contextmanager
    def open(self, name: str) -> Iterator[io.TextIOBase]:
        if self.zip:
            with self.zip.open(self.names[name]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        else:
            with open(self.path / name, encoding="utf-8-sig", newline="") as fh:
                yield fh

    def rows(self, name: str) -> Iterator[tuple[int, list[str]]]:
        """(first line of the record, fields); the header is line 1."""
        with self.open(name) as fh:
            reader = csv.reader(fh)
            line = 1
            for record in reader:
                yield line, record
                line = reader.line_num + 1


class Problems(list):
    def add(self, file: str, line: int, column: int | None, name: str | None, message: str) -> None:
        where = f"{file} line {line}" + (f", column {column} ({name})" if column else "")
        self.append(f"{where}: {message}")

    def raise_if_any(self, what: str) -> None:
        if self:
            shown = self[:MAX_PROBLEMS]
            if len(self) > MAX_PROBLEMS:
                shown.append(f"… and {len(self) - MAX_PROBLEMS} more")
            raise CheckFailed(f"{len(self)} {what}", shown)


def _read_manifest(ctx: Context) -> None:
    package: Package = ctx.state["package"]
    ensure("manifest.csv" in package.names, "the package has no manifest.csv")
    spec = SPEC["manifest"]
    problems = Problems()
    values: dict[str, str] = {}
    for line, record in package.rows("manifest.csv"):
        if line == 1:
            if record != spec["header"]:
                problems.add(
                    "manifest.csv", 1, None, None, f"header {record}, expected {spec['header']}"
                )
            continue
        if len(record) != 2:
            problems.add("manifest.csv", line, None, None, f"{len(record)} fields, expected 2")
            continue
        name, value = record
        if name in values:
            problems.add("manifest.csv", line, 1, "propertyName", f"{name!r} appears twice")
        values[name] = value
        known = (
            name in spec["required"]
            or name in spec["optional"]
            or (name.startswith("file.") and name[5:] in SPEC["files"])
        )
        if not known:
            problems.add("manifest.csv", line, 1, "propertyName", f"unknown property {name!r}")
        elif name.startswith("file.") and value not in spec["fileModes"]:
            problems.add(
                "manifest.csv", line, 2, "value", f"{value!r} is not one of {spec['fileModes']}"
            )
        elif name in spec["required"] and value not in spec["required"][name]:
            problems.add(
                "manifest.csv",
                line,
                2,
                "value",
                f"{name} is {value!r}, expected {spec['required'][name]}",
            )
    for name in [*spec["required"], *(f"file.{f}" for f in SPEC["files"])]:
        if name not in values:
            problems.append(f"manifest.csv: no {name} row")
    modes = {f: values.get(f"file.{f}", "absent") for f in SPEC["files"]}
    for file, mode in modes.items():
        present = f"{file}.csv" in package.names
        if mode in ("bulk", "delta") and not present:
            problems.append(f"manifest.csv: file.{file} is {mode} but {file}.csv is missing")
        if mode == "absent" and present:
            problems.append(f"manifest.csv: file.{file} is absent but {file}.csv is in the package")
    extra = set(package.names) - {"manifest.csv"} - {f"{f}.csv" for f in SPEC["files"]}
    problems += [f"{name}: not a OneRoster v1.1 file" for name in sorted(extra)]
    ctx.state["modes"] = modes
    ctx.state["ids"] = _collect_ids(package, modes)
    problems.raise_if_any("manifest problem(s)")


def _collect_ids(package: Package, modes: dict[str, str]) -> dict[str, set[str]]:
    # Only files that other files point at: enrollments, the largest, is never read twice.
    targets = {
        c["references"] for cols in SPEC["files"].values() for c in cols if "references" in c
    }
    targets |= set(SPEC["sameSourcedIdAs"].values())
    ids: dict[str, set[str]] = {}
    for file, mode in modes.items():
        if file not in targets or mode == "absent" or f"{file}.csv" not in package.names:
            continue
        column = None
        ids[file] = set()
        for line, record in package.rows(f"{file}.csv"):
            if line == 1:
                column = record.index("sourcedId") if "sourcedId" in record else None
            elif column is not None and column < len(record):
                ids[file].add(record[column])
    return ids


def _columns(file: str) -> list[dict[str, Any]]:
    return SPEC["common"] + SPEC["files"][file]


def _format_error(column: dict[str, Any], value: str) -> str | None:
    fmt = column.get("format", "string")
    if fmt == "date":
        try:
            ok = bool(_DATE.match(value)) and bool(date.fromisoformat(value))
        except ValueError:
            ok = False
        return None if ok else "is not a date YYYY-MM-DD"
    if fmt == "dateTime":
        m = _DATETIME.match(value)
        try:
            ok = bool(m) and bool(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            ok = False
        return None if ok else "is not a UTC date-time YYYY-MM-DDTHH:MM:SS.sssZ"
    if fmt == "boolean":
        return None if value in ("true", "false") else "is not true or false"
    if fmt == "year":
        return None if _YEAR.match(value) else "is not a four-digit year"
    if fmt == "number":
        try:
            float(value)
        except ValueError:
            return "is not a number"
        return None
    if fmt == "grades":
        bad = [g for g in _split(value) if g not in CEDS_GRADES]
        return f"has grades {bad} that are not CEDS codes" if bad else None
    if fmt == "userIds":
        bad = [u for u in _split(value) if not _USER_ID.match(u)]
        return f"has userIds {bad} not of the form {{type:identifier}}" if bad else None
    return None


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",")]


def _file_checks(file: str):
    name = f"{file}.csv"

    def read(ctx: Context) -> dict[str, Problems]:
        """One pass over the file, sorting its problems by the check they belong to."""
        cache = ctx.state.setdefault("file_problems", {})
        if file in cache:
            return cache[file]
        package: Package = ctx.state["package"]
        modes, ids = ctx.state["modes"], ctx.state["ids"]
        out = {k: Problems() for k in ("header", "required", "enum", "format", "unique", "refs")}
        cache[file] = out
        columns = _columns(file)
        delta = modes[file] == "delta"
        positions: dict[str, int] = {}
        seen: dict[str, int] = {}
        width = 0
        for line, record in package.rows(name):
            if line == 1:
                positions, width = _header(name, record, columns, out["header"]), len(record)
                continue
            if len(record) != width:
                out["header"].add(
                    name, line, None, None, f"{len(record)} fields, the header has {width}"
                )
                continue
            for column in columns:
                index = positions.get(column["name"])
                if index is None:
                    continue
                value = record[index]
                col = (name, line, index + 1, column["name"])
                required = column.get("required") is True or (
                    column.get("required") == "delta" and delta
                )
                if value == "":
                    if required:
                        out["required"].add(*col, "a value is required")
                    continue
                if column.get("format") == "enum":
                    if value not in column["values"]:
                        out["enum"].add(*col, f"{value!r} is not one of {column['values']}")
                    continue
                problem = _format_error(column, value)
                if problem:
                    out["format"].add(*col, f"{value!r} {problem}")
                target = column.get("references")
                if target and modes.get(target) == "bulk":
                    values = _split(value) if column.get("format") == "list" else [value]
                    for v in values:
                        if v not in ids.get(target, ()):
                            out["refs"].add(*col, f"{v!r} is not a sourcedId in {target}.csv")
            same = SPEC["sameSourcedIdAs"].get(file)
            sid_index = positions.get("sourcedId")
            if sid_index is not None:
                sid = record[sid_index]
                if sid in seen:
                    out["unique"].add(
                        name,
                        line,
                        sid_index + 1,
                        "sourcedId",
                        f"{sid!r} already used on line {seen[sid]}",
                    )
                seen[sid] = line
                if same and modes.get(same) == "bulk" and sid not in ids.get(same, ()):
                    out["refs"].add(
                        name,
                        line,
                        sid_index + 1,
                        "sourcedId",
                        f"{sid!r} is not a sourcedId in {same}.csv",
                    )
        return out

    def runner(key: str, what: str):
        def check(ctx: Context) -> None:
            if ctx.state.get("modes") is None:
                skip("the manifest could not be read")
            mode = ctx.state["modes"][file]
            if mode == "absent":  # the package declares it holds none: nothing to require
                not_requested(f"file.{file} is absent")
            if name not in ctx.state["package"].names:
                skip(f"file.{file} is {mode}, file missing")
            read(ctx)[key].raise_if_any(what)

        return check

    return runner


def _header(
    name: str, record: list[str], columns: list[dict[str, Any]], problems: Problems
) -> dict[str, int]:
    expected = [c["name"] for c in columns]
    positions: dict[str, int] = {}
    for index, header in enumerate(record):
        if header in positions:
            problems.add(name, 1, index + 1, header, "column appears twice")
        elif header not in expected and not header.startswith("metadata."):
            problems.add(name, 1, index + 1, header, "not a OneRoster v1.1 column")
        positions.setdefault(header, index)
    for column in expected:
        if column not in positions:
            problems.add(name, 1, None, None, f"column {column} is missing")
    return positions


def create_suite(args: argparse.Namespace) -> tuple[Suite, CheckList]:
    context = Context({"package": args.package})
    checks = CheckList()

    @checks.add("manifest", "manifest.csv: header, versions, a mode for every file, files present")
    def _manifest(ctx: Context) -> None:
        try:
            ctx.state["package"] = Package(args.package)
        except (OSError, zipfile.BadZipFile) as exc:
            raise CheckFailed(f"cannot open {args.package}: {exc}") from exc
        _read_manifest(ctx)

    for file in SPEC["files"]:
        run = _file_checks(file)
        area = f"{file}.csv"
        checks.add(area, f"{area}: header has every column, rows have as many fields")(
            run("header", "header/row structure problem(s)")
        )
        checks.add(area, f"{area}: required values present")(run("required", "missing value(s)"))
        checks.add(area, f"{area}: enumerations")(run("enum", "value(s) outside the enumeration"))
        checks.add(area, f"{area}: formats (dates, booleans, numbers, grades, userIds)")(
            run("format", "badly formatted value(s)")
        )
        checks.add(area, f"{area}: sourcedIds unique")(run("unique", "duplicate sourcedId(s)"))
        checks.add(area, f"{area}: references to other files resolve")(
            run("refs", "unresolved reference(s)")
        )
    return Suite("OneRoster v1.1 CSV", str(args.package), context), checks
