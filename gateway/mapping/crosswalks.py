"""Crosswalks between Ed-Fi descriptor values and OneRoster 1.1 code sets, read from data/*.json.

Ed-Fi values travel as descriptor URIs (`namespace#codeValue`); the crosswalks are keyed on the
codeValue, so a district namespace that reuses an official code value maps the same way.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def load(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def code_value(uri: str | None) -> str | None:
    """`uri://ed-fi.org/GradeLevelDescriptor#Ninth grade` → `Ninth grade` (a bare code passes)."""
    if not uri:
        return None
    return uri.rpartition("#")[2] or None


def descriptor_uri(name: str, code: str | None) -> str | None:
    if code is None:
        return None
    return f"{load(name)['namespace']}#{code}"


# --- grades -------------------------------------------------------------------------------------
def grade_to_ceds(uri: str | None) -> str | None:
    return load("grade_levels")["toCeds"].get(code_value(uri) or "")


def grades_to_ceds(uris: list[str | None]) -> list[str]:
    """Distinct CEDS codes in first-seen order (OneRoster grades are a set)."""
    out: list[str] = []
    for uri in uris:
        code = grade_to_ceds(uri)
        if code and code not in out:
            out.append(code)
    return out


def ceds_to_grade(code: str | None) -> str | None:
    return descriptor_uri("grade_levels", load("grade_levels")["fromCeds"].get(code or ""))


# --- sex and race -------------------------------------------------------------------------------
def sex_to_oneroster(uri: str | None) -> str | None:
    return load("sex")["toOneRoster"].get(code_value(uri) or "")


def sex_from_oneroster(sex: str | None) -> str | None:
    return descriptor_uri("sex", load("sex")["fromOneRoster"].get((sex or "").lower()))


def race_flags(race_uris: list[str], hispanic: bool | None) -> dict[str, bool | None]:
    """Ed-Fi races (+ HispanicLatinoEthnicity) → OneRoster demographics flags. With no race data
    the race flags stay null (unknown), not false."""
    doc = load("races")
    known = race_uris != []
    flags: dict[str, bool | None] = {f: (False if known else None) for f in doc["raceFlags"]}
    ethnicity = hispanic
    mapped = 0
    for uri in race_uris:
        flag = doc["toOneRoster"].get(code_value(uri) or "")
        if flag == doc["ethnicity"]:
            ethnicity = True
        elif flag:
            flags[flag] = True
            mapped += 1
    flags[doc["twoOrMoreRaces"]] = (mapped > 1) if known else None
    flags[doc["ethnicity"]] = ethnicity
    return flags


def races_from_flags(flags: dict[str, Any]) -> tuple[list[str], bool | None]:
    """OneRoster demographics flags → (Ed-Fi race descriptor URIs, hispanicLatinoEthnicity)."""
    doc = load("races")
    races = [
        descriptor_uri("races", race)
        for flag, race in doc["fromOneRoster"].items()
        if flags.get(flag) is True
    ]
    hispanic = flags.get(doc["ethnicity"])
    return [r for r in races if r], (hispanic if isinstance(hispanic, bool) else None)


# --- sessions -----------------------------------------------------------------------------------
def term_to_session_type(uri: str | None) -> str | None:
    return load("terms")["toOneRoster"].get(code_value(uri) or "")


def session_type_to_term(session_type: str | None) -> str | None:
    return descriptor_uri("terms", load("terms")["fromOneRoster"].get(session_type or ""))


# --- roles --------------------------------------------------------------------------------------
def _best(name: str, uris: list[str | None]) -> str | None:
    doc = load(name)
    roles = {doc["toOneRoster"].get(code_value(u) or "") for u in uris}
    return next((r for r in doc["precedence"] if r in roles), None)


def staff_role(classification_uris: list[str | None], teaches: bool = False) -> str | None:
    """The OneRoster role of a staff member: a section makes them a teacher, otherwise the
    highest-precedence role among their classifications."""
    doc = load("staff_classifications")
    if teaches:
        return doc["sectionRole"]
    return _best("staff_classifications", classification_uris)


def staff_classification_for(role: str | None) -> str | None:
    doc = load("staff_classifications")
    return descriptor_uri("staff_classifications", doc["fromOneRoster"].get(role or ""))


def contact_role(relation_uris: list[str | None]) -> str | None:
    return _best("relations", relation_uris)


def relation_for(role: str | None) -> str | None:
    return descriptor_uri("relations", load("relations")["fromOneRoster"].get(role or ""))


# --- enrollments --------------------------------------------------------------------------------
def classroom_position(uri: str | None) -> dict[str, Any] | None:
    return load("classroom_positions")["toOneRoster"].get(code_value(uri) or "")


def classroom_position_for(primary: bool | None) -> str | None:
    doc = load("classroom_positions")
    return descriptor_uri(
        "classroom_positions", doc["fromOneRoster"]["primary" if primary else "other"]
    )
