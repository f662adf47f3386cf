"""Every official Ed-Fi value of each crosswalked descriptor is mapped (explicitly, null included),
and every target value is a OneRoster 1.1 code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.mapping import crosswalks as cw
from gateway.paths import DESCRIPTORS_DIR

NS = "{http://ed-fi.org/5.2.0}"
CEDS = ["IT", "PR", "PK", "TR", "KG", *(f"{n:02d}" for n in range(1, 14)), "PS", "UG", "Other"]
ROLES = {"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"}


def official(descriptor: str) -> tuple[set[str], set[str]]:
    root = ET.parse(DESCRIPTORS_DIR / f"{descriptor}.xml").getroot()
    items = root.findall(f"{NS}{descriptor}")
    return (
        {i.findtext(f"{NS}CodeValue") for i in items},
        {i.findtext(f"{NS}Namespace") for i in items},
    )


@pytest.mark.parametrize(
    ("name", "table", "targets"),
    [
        ("grade_levels", "toCeds", set(CEDS)),
        ("sex", "toOneRoster", {"male", "female", None}),
        (
            "races",
            "toOneRoster",
            {*cw.load("races")["raceFlags"], "hispanicOrLatinoEthnicity", None},
        ),
        ("terms", "toOneRoster", {"term", "semester", "gradingPeriod"}),
        ("staff_classifications", "toOneRoster", ROLES | {None}),
        ("relations", "toOneRoster", {"parent", "guardian", "relative", None}),
        ("classroom_positions", "toOneRoster", None),
    ],
)
def test_every_official_value_is_mapped(name, table, targets):
    doc = cw.load(name)
    codes, namespaces = official(doc["descriptor"])
    assert namespaces == {doc["namespace"]}
    assert set(doc[table]) == codes, "crosswalk keys must be exactly the official code values"
    if targets is not None:
        assert set(doc[table].values()) <= targets


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("grade_levels", "fromCeds"),
        ("sex", "fromOneRoster"),
        ("races", "fromOneRoster"),
        ("terms", "fromOneRoster"),
        ("staff_classifications", "fromOneRoster"),
        ("relations", "fromOneRoster"),
        ("classroom_positions", "fromOneRoster"),
    ],
)
def test_reverse_values_are_official_codes(name, table):
    doc = cw.load(name)
    codes, _ = official(doc["descriptor"])
    assert set(doc[table].values()) <= codes


def _uris(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _uris(v)
    elif isinstance(value, str) and value.startswith("uri://ed-fi.org/") and "#" in value:
        yield value


def test_descriptor_values_the_reverse_direction_fills_are_official():
    uris = sorted(set(_uris({k: v for k, v in cw.load("reverse").items() if k != "_comment"})))
    assert len(uris) >= 8
    for uri in uris:
        namespace, _, code = uri.partition("#")
        codes, namespaces = official(namespace.rpartition("/")[2])
        assert (code, namespace) in {(c, n) for c in codes for n in namespaces}, uri


def test_every_ceds_grade_comes_back_and_round_trips():
    assert list(cw.load("grade_levels")["fromCeds"]) == CEDS
    for code in CEDS:
        assert cw.grade_to_ceds(cw.ceds_to_grade(code)) == code


def test_grade_examples():
    assert cw.grade_to_ceds("uri://ed-fi.org/GradeLevelDescriptor#Ninth grade") == "09"
    assert cw.grade_to_ceds("uri://gbisd.edu/GradeLevelDescriptor#Kindergarten") == "KG"
    assert cw.grade_to_ceds("uri://ed-fi.org/GradeLevelDescriptor#Made up") is None
    assert cw.ceds_to_grade("KG") == "uri://ed-fi.org/GradeLevelDescriptor#Kindergarten"
    assert cw.grades_to_ceds(
        [
            "uri://x/GradeLevelDescriptor#Tenth grade",
            "uri://x/GradeLevelDescriptor#Tenth grade",
            None,
        ]
    ) == ["10"]


def test_sex():
    assert cw.sex_to_oneroster("uri://ed-fi.org/SexDescriptor#Female") == "female"
    assert cw.sex_to_oneroster("uri://ed-fi.org/SexDescriptor#Non-binary") is None
    assert cw.sex_from_oneroster("male") == "uri://ed-fi.org/SexDescriptor#Male"
    assert cw.sex_from_oneroster(None) is None


def test_race_flags():
    ns = "uri://ed-fi.org/RaceDescriptor#"
    flags = cw.race_flags([ns + "Asian", ns + "White"], False)
    assert flags["asian"] is True and flags["white"] is True
    assert flags["blackOrAfricanAmerican"] is False
    assert flags["demographicRaceTwoOrMoreRaces"] is True
    assert flags["hispanicOrLatinoEthnicity"] is False
    single = cw.race_flags([ns + "Hispanic or Latino", ns + "Asian"], None)
    assert single["hispanicOrLatinoEthnicity"] is True
    assert single["demographicRaceTwoOrMoreRaces"] is False
    unknown = cw.race_flags([], None)
    assert set(unknown.values()) == {None}
    races, hispanic = cw.races_from_flags(flags)
    assert sorted(races) == [ns + "Asian", ns + "White"] and hispanic is False


def test_terms_and_roles():
    assert cw.term_to_session_type("uri://ed-fi.org/TermDescriptor#Fall Semester") == "term"
    assert cw.term_to_session_type("uri://ed-fi.org/TermDescriptor#First Quarter") == "term"
    assert cw.session_type_to_term("semester") == "uri://ed-fi.org/TermDescriptor#Semester"
    sc = "uri://ed-fi.org/StaffClassificationDescriptor#"
    assert cw.staff_role([sc + "Principal", sc + "Teacher"]) == "teacher"
    assert cw.staff_role([sc + "Instructional Aide"]) == "aide"
    assert cw.staff_role([sc + "Missing"]) is None
    assert cw.staff_role([sc + "Missing"], teaches=True) == "teacher"
    rel = "uri://ed-fi.org/RelationDescriptor#"
    assert cw.contact_role([rel + "Grandmother", rel + "Mother"]) == "parent"
    assert cw.contact_role([rel + "CourtAppointedGuardian"]) == "guardian"
    assert cw.contact_role([rel + "Neighbor"]) is None
    assert cw.relation_for("guardian") == rel + "Guardian"
