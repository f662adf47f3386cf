"""Load a directory of Ed-Fi interchange XML through the resource service, in dependency order."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.edfi.bulk import BulkUpsert
from gateway.edfi.definitions import registry
from gateway.edfi.interchange import Record
from gateway.edfi.security import Authorizer
from gateway.edfi.uploads import JSON_SUFFIXES, XML_SUFFIX, read_files
from gateway.errors import GatewayError

DISTRICT_WIDE = OrgScope(True, frozenset(), frozenset())


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (source, resource, reason)
    skipped: Counter = field(
        default_factory=Counter
    )  # interchange elements this API does not serve

    def lines(self) -> list[str]:
        out = []
        for name in sorted(
            (set(self.created) | set(self.updated) | {r for _, r, _ in self.rejected}) - {""}
        ):
            rejected = sum(1 for _, r, _ in self.rejected if r == name)
            out.append(
                f"{name}: {self.created[name]} created, {self.updated[name]} updated, "
                f"{rejected} rejected"
            )
        for element, n in sorted(self.skipped.items()):
            out.append(f"skipped {n} {element} (not served by this API)")
        for source, name, reason in self.rejected:
            out.append(f"REJECTED {source} ({name}): {reason}")
        return out


def describe(err: GatewayError) -> str:
    messages = [f"{path}: {' '.join(msgs)}" for path, msgs in (err.validation_errors or {}).items()]
    if len(messages) == 1 and err.message in messages[0]:
        return err.message  # the message already names the one problem
    return " ".join([err.message, "; ".join(messages)]).strip()


def load_records(
    session: Session,
    records: list[Record],
    report: LoadReport,
    origin: str = "edfi",
    *,
    authorizer: Authorizer | None = None,
    commit_each: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Upsert records in dependency order, set-based per resource: every record is checked like an
    API request; rejected ones are reported with their reason, the others written. With
    `commit_each` each resource is committed as it is loaded (the operator's partial load);
    without it the caller decides the one transaction's fate. `progress("load", records done,
    records in all)` is called after each resource."""
    reg = registry()
    bulk = BulkUpsert(session, reg, origin=origin, authorizer=authorizer)
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record.resource].append(record)
    done = 0
    for name in sorted(grouped, key=lambda n: (reg.resources[n].order, n)):
        group = grouped[name]
        result = bulk.run(reg.resources[name], [r.body for r in group])
        report.created[name] += result.created
        report.updated[name] += result.updated
        for index, reason in sorted(result.rejected):
            report.rejected.append((group[index].source, name, reason))
        if commit_each:
            session.commit()
        if progress is not None:
            done += len(group)
            progress("load", done, len(records))


def _uris(value: object, prefixes: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, str):
        if "#" in value and value.startswith(prefixes):
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _uris(v, prefixes)
    elif isinstance(value, list):
        for v in value:
            yield from _uris(v, prefixes)


def district_descriptors(records: list[Record], namespaces: tuple[str, ...]) -> list[Record]:
    """Descriptor records for the values the data uses in the district's own namespaces, which a
    district ships in its descriptor interchange (the sample does not include that file)."""
    reg = registry()
    found: dict[str, Record] = {}
    for record in records:
        for uri in _uris(record.body, namespaces):
            namespace, _, code = uri.partition("#")
            res = reg.find(namespace.rsplit("/", 1)[-1] + "s")
            if res is not None and res.descriptor and uri not in found:
                body = {"namespace": namespace, "codeValue": code, "shortDescription": code}
                found[uri] = Record(res.name, body, f"{record.source} (district descriptor {uri})")
    return list(found.values())


def load_interchange(
    session: Session, directory: Path, district_namespaces: tuple[str, ...] = ()
) -> LoadReport:
    """Load every interchange *.xml and <resource>.ndjson file of `directory` (read as a bulk
    job reads a package); descriptor values the data uses in `district_namespaces` are created
    first."""
    records, report = read_interchange(directory, district_namespaces)
    load_records(session, records, report)
    return report


def read_interchange(
    directory: Path, district_namespaces: tuple[str, ...] = ()
) -> tuple[list[Record], LoadReport]:
    """The records of `directory`'s files (and the district descriptors they use), and a report
    holding what could not be read."""
    report = LoadReport()
    suffixes = (XML_SUFFIX, *JSON_SUFFIXES)
    files = sorted(p for p in Path(directory).iterdir() if p.name.lower().endswith(suffixes))
    package = read_files([(p.name, p) for p in files], registry())
    report.skipped.update(package.skipped)
    report.rejected.extend((r.source, r.resource, r.reason) for r in package.rejected)
    records = package.records
    if district_namespaces:
        records = district_descriptors(records, district_namespaces) + records
    return records, report
