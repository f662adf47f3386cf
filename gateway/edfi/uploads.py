"""Reading an uploaded Ed-Fi bulk package into records, each with the file and line it came from.

A package is one file or a zip of files:

- `<resource>.ndjson` (or `.jsonl`): one Ed-Fi JSON document per line, of the resource the file is
  named after (`students.ndjson`, `studentSchoolAssociations.ndjson`); blank lines are skipped;
- `*.xml`: Ed-Fi interchange XML (DS 5.2), read by the same reader as `gateway load-interchange`.

What cannot be read — a line that is not JSON, a file named after no served resource, XML with a
document type declaration (entity expansion is refused outright), a zip larger unpacked than the
configured limit — becomes a rejection naming the file, line and column; nothing of the package is
applied then, as with any other rejected record.
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from gateway.edfi.definitions import Registry
from gateway.edfi.interchange import InterchangeReader, Record
from gateway.normalize import JsonTooDeep, checked_json

JSON_SUFFIXES = (".ndjson", ".jsonl")
XML_SUFFIX = ".xml"


@dataclass
class Rejection:
    source: str  # "students.ndjson line 3" or "Student.xml"
    resource: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "resource": self.resource, "reason": self.reason}


@dataclass
class Package:
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # interchange elements not served here


def read_upload(
    path: Path, filename: str, registry: Registry, work_dir: Path, max_unpacked: int
) -> Package:
    """The records of an uploaded file (`filename` as the client named it)."""
    package = Package()
    if zipfile.is_zipfile(path):
        files = list(_unpack(path, work_dir, max_unpacked, package))
    else:
        files = [(PurePosixPath(filename or "upload").name, path)]
    return read_files(files, registry, package)


def read_files(
    files: list[tuple[str, Path]], registry: Registry, package: Package | None = None
) -> Package:
    """The records of bulk files, each given with the name reports use for it."""
    package = package or Package()
    xml = []
    for name, file in files:
        lowered = name.lower()
        if lowered.endswith(JSON_SUFFIXES):
            _read_ndjson(name, file, registry, package)
        elif lowered.endswith(XML_SUFFIX):
            xml.append((name, file))
        else:
            package.rejected.append(
                Rejection(name, "", "Not a bulk file: name it <resource>.ndjson or *.xml.")
            )
    _read_interchange(xml, registry, package)
    return package


def _unpack(
    path: Path, work_dir: Path, max_unpacked: int, package: Package
) -> Iterator[tuple[str, Path]]:
    """The zip's files, by base name, written under `work_dir` (never outside it)."""
    with zipfile.ZipFile(path) as archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if sum(i.file_size for i in entries) > max_unpacked:
            package.rejected.append(
                Rejection(path.name, "", f"The zip unpacks to more than {max_unpacked} bytes.")
            )
            return
        for n, info in enumerate(entries):
            name = PurePosixPath(info.filename).name
            if not name or name.startswith((".", "__MACOSX")):
                continue
            target = work_dir / f"{n:05d}-{name}"[-200:]
            with archive.open(info) as source, open(target, "wb") as out:
                written = 0
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > info.file_size:  # the header understated it
                        break
                    out.write(chunk)
            yield name, target


def _read_ndjson(name: str, path: Path, registry: Registry, package: Package) -> None:
    resource = registry.find(name.rsplit(".", 1)[0])
    if resource is None:
        package.rejected.append(
            Rejection(name, "", f"'{name}' is not named after a resource this API serves.")
        )
        return
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            source = f"{name} line {number}"
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                reason = f"column {exc.start + 1}: the line is not UTF-8."
                package.rejected.append(Rejection(source, resource.name, reason))
                continue
            if not text.strip():
                continue
            try:
                body: Any = checked_json(functools.partial(json.loads, text))
            except JsonTooDeep as exc:
                package.rejected.append(Rejection(source, resource.name, exc.message))
                continue
            except ValueError as exc:
                column = getattr(exc, "colno", 1)
                reason = f"column {column}: the line is not a JSON document ({_first_line(exc)})."
                package.rejected.append(Rejection(source, resource.name, reason))
                continue
            package.records.append(Record(resource.name, body, source))


def _read_interchange(files: list[tuple[str, Path]], registry: Registry, package: Package) -> None:
    readable = []
    reader = InterchangeReader(registry)
    for name, path in files:
        if _declares_doctype(path):
            reason = "Interchange XML may not carry a document type declaration."
            package.rejected.append(Rejection(name, "", reason))
        elif _parsed(name, package, functools.partial(reader.index_ids, path)):
            readable.append((name, path))
    for name, path in readable:
        found: list[Record] = []
        skipped: Counter = Counter()

        def read(path: Path = path, found: list = found, skipped: Counter = skipped) -> None:
            for item in reader.records(path):
                if isinstance(item, Record):
                    found.append(item)
                else:
                    skipped[item[0]] += 1

        if _parsed(name, package, read):
            for record in found:
                record.source = record.source.replace(path.name, name, 1)
            package.records.extend(found)
            package.skipped.update(skipped)


def _parsed(name: str, package: Package, parse: Callable[[], None]) -> bool:
    """Run one pass over a file; a file that is not well-formed XML becomes a rejection."""
    try:
        parse()
    except SyntaxError as exc:  # xml.etree's ParseError, with the position it stopped at
        line, column = getattr(exc, "position", (0, 0))
        reason = f"line {line}, column {column + 1}: not well-formed XML."
        package.rejected.append(Rejection(name, "", reason))
        return False
    return True


def _declares_doctype(path: Path) -> bool:
    """True when the prolog (what precedes the root element) holds a document type declaration,
    or when no root element starts within the first MiB."""
    with open(path, "rb") as stream:
        head = stream.read(1 << 20)
    at = 0
    while (at := head.find(b"<", at)) >= 0:
        if head.startswith(b"<?", at):
            at = head.find(b"?>", at)
        elif head.startswith(b"<!--", at):
            at = head.find(b"-->", at)
        elif head.startswith(b"<!", at):
            return True  # <!DOCTYPE …>
        else:
            return False  # the root element
        if at < 0:
            break
    return True


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
