"""Reading a OneRoster CSV package (a zip or a directory) as streams, never whole in memory.

Text is decoded as UTF-8 (a byte-order mark is dropped), line ends are unified, and each chunk is
normalised to NFC (compliance rule 1). Chunks end on a line boundary, so a combining mark is never
split from its base character.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from gateway.normalize import nfc
from gateway.oneroster.csv.catalogue import catalogue
from gateway.oneroster.csv.report import ImportReport, Issue

CHUNK_CHARS = 1 << 20


class PackageError(Exception):
    """The package cannot be read at all (not a zip or directory, no manifest)."""


class Package:
    """A zip file or a directory holding manifest.csv and the data files."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}
        if self.path.is_dir():
            self._names = {p.name: p.name for p in self.path.iterdir() if p.is_file()}
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except zipfile.BadZipFile as exc:
                raise PackageError("the package is neither a zip file nor a directory") from exc
            # Producers sometimes zip a folder: match files by their base name.
            for info in self._zip.infolist():
                if not info.is_dir():
                    self._names.setdefault(Path(info.filename).name, info.filename)
        else:
            raise PackageError(f"no such file or directory: {self.path}")

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def filenames(self) -> list[str]:
        return sorted(self._names)

    def has(self, filename: str) -> bool:
        return filename in self._names

    def size(self, filename: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._names[filename]).file_size
        return (self.path / self._names[filename]).stat().st_size

    @contextmanager
    def open_binary(self, filename: str) -> Iterator[BinaryIO]:
        if self._zip is not None:
            with self._zip.open(self._names[filename]) as stream:
                yield stream  # type: ignore[misc]
        else:
            with open(self.path / self._names[filename], "rb") as stream:
                yield stream

    @contextmanager
    def open_text(self, filename: str) -> Iterator[io.TextIOWrapper]:
        with self.open_binary(filename) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline=None)
            try:
                yield text
            finally:
                text.detach()


def read_header(text: io.TextIOWrapper) -> list[str]:
    """The header record; the stream is left at the first data line."""
    line = text.readline()
    if not line.strip():
        return []
    return [nfc(name.strip()) for name in next(csv.reader([line]))]


def chunks(text: io.TextIOWrapper, counter: list[int]) -> Iterator[str]:
    """NFC text chunks ending on line boundaries, without trailing blank lines.

    `counter[0]` holds the number of lines read so far, to locate a decoding error.
    """
    pending = ""
    while True:
        lines = text.readlines(CHUNK_CHARS)
        if not lines:
            break
        counter[0] += len(lines)
        if pending:
            yield pending
        pending = nfc("".join(lines))
    pending = pending.rstrip("\n")
    if pending:
        yield pending + "\n"


@dataclass
class Manifest:
    modes: dict[str, str] = field(default_factory=dict)  # file name ("users") → mode
    properties: dict[str, str] = field(default_factory=dict)


def read_manifest(package: Package, report: ImportReport) -> Manifest | None:
    """Parse manifest.csv; problems go to the report under manifest.csv. None when unusable."""
    spec = catalogue().manifest
    filename = spec["file"]
    if not package.has(filename):
        report.add(Issue(filename, 0, "", "", "the package has no manifest.csv"))
        return None
    manifest = Manifest()
    problems = 0
    try:
        with package.open_text(filename) as text:
            rows = csv.reader(text)
            header = [nfc(h.strip()) for h in next(rows, [])]
            if header[:2] != spec["header"]:
                report.add(
                    Issue(filename, 1, "", ",".join(header), "header must be propertyName,value")
                )
                return None
            for number, row in enumerate(rows, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                name, value = (nfc(row[0].strip()), nfc(row[1].strip()) if len(row) > 1 else "")
                manifest.properties[name] = value
                if name.startswith("file."):
                    file_name = name[len("file.") :]
                    if file_name not in {f.name for f in catalogue().files}:
                        report.add(Issue(filename, number, "propertyName", name, "unknown file"))
                        problems += 1
                    elif value not in spec["modes"]:
                        reason = "must be one of: " + ", ".join(spec["modes"])
                        report.add(Issue(filename, number, "value", value, reason))
                        problems += 1
                    else:
                        manifest.modes[file_name] = value
                elif name in spec["versions"] and value != spec["versions"][name]:
                    reason = f"this gateway reads {name} {spec['versions'][name]}"
                    report.add(Issue(filename, number, "value", value, reason))
                    problems += 1
    except UnicodeDecodeError:
        report.add(Issue(filename, 0, "", "", "the file is not valid UTF-8"))
        return None
    for name in spec["versions"]:
        if name not in manifest.properties:
            report.add(Issue(filename, 0, "propertyName", name, "required property is missing"))
            problems += 1
    return None if problems else manifest
