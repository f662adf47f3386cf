"""Ed-Fi authorization per claim set, resource and action, from the ODS security metadata
(schemas/edfi/security/): strategies resolved through the resource claim hierarchy, and what
clients of different claim sets may do with the same records."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.edfi import claim_sets
from gateway.edfi.claim_sets import CLAIM_PREFIX, LEGACY_CLAIM_SET, metadata
from gateway.edfi.definitions import registry
from gateway.edfi.security import rules
from tests.edfi.conftest import EdFi, enrollment, school, student
from tests.edfi.test_resources import problem

SANDBOX, SIS = "Ed-Fi Sandbox", "SIS Vendor"
NO_FURTHER = ("NoFurtherAuthorizationRequired",)
PEOPLE = ("RelationshipsWithEdOrgsAndPeople",)
NAMESPACE_MISMATCH = "security:authorization:namespace:access-denied:namespace-mismatch"


def strategies(claim_set: str, claim: str, action: str):
    return metadata().strategies(claim_set, CLAIM_PREFIX + claim, action)


# --- the metadata ------------------------------------------------------------------------------


def test_every_served_resource_has_a_resource_claim_and_the_harness_claim_sets_exist():
    for name, res in registry().resources.items():
        assert claim_sets.claim_name(res) in metadata().claims, name
        # the claim set migrated clients get grants what they could do before, and reads (at
        # least) of everything DS 5 added
        actions = ("Create", "Read", "Update", "Delete") if res.name != "schoolYearTypes" else ()
        for action in actions:
            assert claim_sets.strategies(LEGACY_CLAIM_SET, res, action) is not None, (name, action)
        assert claim_sets.strategies(LEGACY_CLAIM_SET, res, "Read") is not None, name
    finance = registry().resources["chartOfAccounts"]
    assert claim_sets.claim_name(finance).endswith("/claims/ed-fi/chartOfAccount")
    assert {SANDBOX, SIS, "Ownership Based Test", LEGACY_CLAIM_SET} <= set(claim_sets.claim_sets())


@pytest.mark.parametrize(
    ("claim_set", "claim", "action", "expected"),
    [
        # defaults of the domain (people), inherited by the resource claim
        (SANDBOX, "student", "Create", NO_FURTHER),
        (SANDBOX, "student", "Read", PEOPLE),
        (SANDBOX, "student", "Update", PEOPLE),
        (SANDBOX, "student", "Delete", NO_FURTHER),
        # educationOrganizations: no further authorization for any action
        (SANDBOX, "school", "Create", NO_FURTHER),
        (SANDBOX, "localEducationAgency", "Update", NO_FURTHER),
        # SIS Vendor may only read organizations and system descriptors
        (SIS, "school", "Read", NO_FURTHER),
        (SIS, "school", "Create", None),
        (SIS, "gradeLevelDescriptor", "Create", None),
        (SIS, "gradeLevelDescriptor", "Read", NO_FURTHER),
        (SANDBOX, "gradeLevelDescriptor", "Create", ("NamespaceBased",)),
        # the primaryRelationships domain's Create default differs from its Read
        (SANDBOX, "studentSchoolAssociation", "Create", ("RelationshipsWithEdOrgsOnly",)),
        (SANDBOX, "studentSchoolAssociation", "Read", PEOPLE),
        # later files replace a claim's defaults (2070, 2160) …
        (SANDBOX, "gradebookEntry", "Read", ("NamespaceBased",)),
        (SANDBOX, "studentContactAssociation", "Delete", ("RelationshipsWithStudentsOnly",)),
        # … add to them (2130) …
        (SANDBOX, "course", "Read", (*PEOPLE, "RelationshipsWithEdOrgsAndPeopleInverted")),
        # … and a claim set's override on the granting claim wins over the defaults (2060)
        ("Ownership Based Test", "student", "Read", ("OwnershipBased",)),
        # the gateway's own claim set: today's rules
        (LEGACY_CLAIM_SET, "school", "Create", ("RelationshipsWithEdOrgsOnly",)),
        (LEGACY_CLAIM_SET, "student", "Create", NO_FURTHER),
        (LEGACY_CLAIM_SET, "student", "Delete", PEOPLE),
        (LEGACY_CLAIM_SET, "gradebookEntry", "Read", PEOPLE),
    ],
)
def test_strategies_resolve_through_the_claim_hierarchy(claim_set, claim, action, expected):
    assert strategies(claim_set, claim, action) == expected


def test_a_later_file_replaces_a_claim_sets_actions_and_may_move_a_claim(tmp_path: Path):
    # 2030 restates AB Connect's actions on academicSubjectDescriptor without ReadChanges
    assert strategies("AB Connect", "academicSubjectDescriptor", "Read") == NO_FURTHER
    assert strategies("AB Connect", "academicSubjectDescriptor", "ReadChanges") is None
    first = tmp_path / "1.xml"
    first.write_text(
        '<SecurityMetadata><Claims><Claim name="d"><DefaultAuthorization><Action name="Read">'
        '<AuthorizationStrategies><AuthorizationStrategy name="A" /></AuthorizationStrategies>'
        '</Action></DefaultAuthorization><ClaimSets><ClaimSet name="S"><Actions>'
        '<Action name="Read" /></Actions></ClaimSet></ClaimSets>'
        '<Claims><Claim name="c" /></Claims></Claim></Claims></SecurityMetadata>'
    )
    moved = tmp_path / "2.xml"
    moved.write_text(
        '<SecurityMetadata modifyHierarchy="true"><Claims><Claim name="c" /></Claims>'
        "</SecurityMetadata>"
    )
    assert claim_sets.load([first]).strategies("S", "c", "Read") == ("A",)
    # moved to the top of the hierarchy, it no longer inherits the domain's grant
    assert claim_sets.load([first, moved]).strategies("S", "c", "Read") is None


# --- requests -------------------------------------------------------------------------------


@pytest.fixture
def clients(edfi, district, auth_headers):
    """The two-LEA district, student 720001 at 255901001, student 720009 with no association,
    and clients of LEA 255901 under different claim sets."""
    ids = district()
    edfi.create("students", student("720001"))
    edfi.create("studentSchoolAssociations", enrollment("720001", 255901001))
    ids["lonely"] = edfi.create("students", student("720009"))

    def of(claim_set: str, edorgs=("255901",), **options) -> EdFi:
        headers = auth_headers(edorgs=edorgs, claim_set=claim_set, name=claim_set, **options)
        return EdFi(edfi.client, headers)

    return ids, of


def test_sandbox_creates_a_school_under_its_lea_where_the_legacy_rules_refused(clients):
    _, of = clients
    assert of(SANDBOX).post("schools", school(255901999, 255901)).status_code == 201
    problem(
        of(LEGACY_CLAIM_SET).post("schools", school(255901998, 255901)),
        403,
        "security:authorization",
    )


def test_sis_vendor_may_read_organizations_but_not_write_them(clients):
    ids, of = clients
    sis = of(SIS)
    body = problem(sis.post("schools", school(255901999, 255901)), 403, "security:authorization")
    assert "SIS Vendor" in body["detail"] and "Create" in body["detail"]
    problem(sis.delete("schools", ids[255901001]), 403, "security:authorization")
    # Read needs no further authorization: every school, its LEA's or not
    assert len(sis.get("schools").get_json()) == 3
    assert sis.get(f"schools/{ids[255902001]}").status_code == 200
    # while the legacy rules show only the client's own
    assert len(of(LEGACY_CLAIM_SET).get("schools").get_json()) == 2


def test_people_delete_needs_no_relationship_but_update_does(clients):
    ids, of = clients
    sandbox = of(SANDBOX)
    # the unassociated student is not readable, nor replaceable, by relationships …
    problem(sandbox.get(f"students/{ids['lonely']}"), 403, "security:authorization")
    problem(
        sandbox.put("students", ids["lonely"], student("720009", first="Lena")),
        403,
        "security:authorization",
    )
    # … and the legacy rules refused to delete it; the ODS rule (Delete: no further) allows it
    problem(of(LEGACY_CLAIM_SET).delete("students", ids["lonely"]), 403, "security:authorization")
    assert sandbox.delete("students", ids["lonely"]).status_code == 204
    # reads of people stay limited to the related ones
    assert [s["studentUniqueId"] for s in sandbox.get("students").get_json()] == ["720001"]


def test_create_needs_the_relationship_the_claim_set_names(clients):
    _, of = clients
    sandbox = of(SANDBOX)
    # studentSchoolAssociation Create: RelationshipsWithEdOrgsOnly
    problem(
        sandbox.post("studentSchoolAssociations", enrollment("720009", 255902001)),
        403,
        "security:authorization",
    )
    assert (
        sandbox.post("studentSchoolAssociations", enrollment("720009", 255901107)).status_code
        == 201
    )
    # a POST that finds the record is its Update: the existing record must be related too
    problem(
        of(SANDBOX, edorgs=("255902",)).post("students", student("720001", first="Changed")),
        403,
        "security:authorization",
    )


@pytest.fixture
def no_org_client(edfi, district, make_api_client, app, db_session):
    from gateway.auth.clients import find_active
    from gateway.auth.tokens import issue_token

    district()
    edfi.create("students", student("720001"))
    edfi.create("studentSchoolAssociations", enrollment("720001", 255901001))
    with app.app_context():
        from gateway.auth.clients import create_client

        made, _ = create_client(db_session, name="none", claim_set=SANDBOX)
        token = issue_token(db_session, find_active(db_session, made.key), list(made.scopes), 60)
        db_session.flush()
    return EdFi(edfi.client, {"Authorization": f"Bearer {token}"})


def test_a_client_made_without_organizations_reaches_none(no_org_client):
    assert no_org_client.get("students").get_json() == []
    assert no_org_client.get("studentSchoolAssociations").get_json() == []
    # what needs no relationship stays open to it, as in the ODS
    assert len(no_org_client.get("schools").get_json()) == 3


def test_namespace_based_writes_accept_any_of_the_clients_prefixes(clients):
    _, of = clients
    descriptor = {
        "codeValue": "Tenth grade plus",
        "shortDescription": "Tenth grade plus",
        "namespace": "uri://austin.org/GradeLevelDescriptor",
    }
    both = of(SANDBOX, namespace_prefixes=["uri://austin.org"], namespace="uri://ed-fi.org")
    assert both.post("gradeLevelDescriptors", descriptor).status_code == 201
    other = of(SANDBOX, namespace="uri://other.org")
    body = problem(
        other.post("gradeLevelDescriptors", {**descriptor, "codeValue": "X"}),
        403,
        NAMESPACE_MISMATCH,
    )
    assert "uri://other.org" in body["detail"]
    # SIS Vendor may not write descriptors at all, whatever its prefixes
    problem(
        of(SIS, namespace="uri://austin.org").post(
            "gradeLevelDescriptors", {**descriptor, "codeValue": "Y"}
        ),
        403,
        "security:authorization",
    )


def test_gradebook_entries_are_namespace_based_for_the_sandbox(edfi, auth_headers):
    from tests.mapping.conftest import bodies

    entry = None
    for resource, body in bodies():
        if resource == "gradebookEntries":
            entry = {**body, "namespace": "uri://austin.org/gradebook"}
            break
        edfi.create(resource, body)
    assert entry is not None

    def of(namespace: str, edorgs=("255901",)) -> EdFi:
        headers = auth_headers(edorgs=edorgs, claim_set=SANDBOX, namespace=namespace, name="gb")
        return EdFi(edfi.client, headers)

    austin = of("uri://austin.org")
    made = austin.post("gradebookEntries", entry)
    assert made.status_code == 201, made.get_json()
    entry_id = made.headers["Location"].rsplit("/", 1)[1]
    listed = austin.get("gradebookEntries").get_json()
    assert [e["gradebookEntryIdentifier"] for e in listed] == ["HW-1"]
    # the namespace decides, not the organizations: a client of another LEA in it sees the entry
    assert len(of("uri://austin.org", edorgs=("255902",)).get("gradebookEntries").get_json()) == 1
    other = of("uri://other.org")
    assert other.get("gradebookEntries").get_json() == []
    problem(other.get(f"gradebookEntries/{entry_id}"), 403, NAMESPACE_MISMATCH)
    problem(other.post("gradebookEntries", entry), 403, NAMESPACE_MISMATCH)
    problem(other.delete("gradebookEntries", entry_id), 403, NAMESPACE_MISMATCH)
    assert austin.delete("gradebookEntries", entry_id).status_code == 204
    # its tombstone too: ReadChanges follows the namespace
    assert [d["id"] for d in austin.get("gradebookEntries/deletes").get_json()] == [entry_id]
    assert other.get("gradebookEntries/deletes").get_json() == []


def test_deletes_follow_the_claim_sets_read_strategy(clients):
    ids, of = clients
    edfi_all = of(LEGACY_CLAIM_SET, edorgs=())
    assert edfi_all.delete("schools", ids[255902001]).status_code == 204
    # schools need no further authorization to read in the sandbox, so neither do their deletes
    sandbox = [d["id"] for d in of(SANDBOX).get("schools/deletes").get_json()]
    assert ids[255902001] in sandbox
    assert of(LEGACY_CLAIM_SET).get("schools/deletes").get_json() == []


def test_the_ownership_claim_set_reads_owned_people_only(clients):
    _, of = clients
    owner = of("Ownership Based Test")
    # OwnershipBased (tests/edfi/test_ownership.py): a client without a token owns nothing
    assert owner.get("students").get_json() == []
    # the shipped metadata grants that claim set nothing else
    body = problem(owner.get("schools"), 403, "security:authorization")
    assert "does not grant the 'Read' action" in body["detail"]


def test_the_sandbox_may_update_any_school_but_never_move_one_into_its_reach(clients):
    ids, of = clients
    sandbox = of(SANDBOX)
    # educationOrganizations Update: no further authorization, so another LEA's school may change
    renamed = sandbox.put("schools", ids[255902001], school(255902001, 255902, "Renamed"))
    assert renamed.status_code == 204
    # but not move under the client's LEA: reach comes from the operator, not from its writes
    problem(
        sandbox.put("schools", ids[255902001], school(255902001, 255901, "Mine now")),
        403,
        "security:authorization",
    )
    problem(sandbox.post("schools", school(255902002, 255902)), 403, "security:authorization")


def test_relationships_ask_nothing_of_records_that_name_no_organization(edfi, auth_headers):
    """A finance dimension names no education organization nor person: a client limited to one
    LEA writes and reads it under the sandbox's relationship strategies (it belongs to no one's
    reach), while a record that does name one stays out of another LEA's reach."""
    api = EdFi(edfi.client, auth_headers(edorgs=("255901",), claim_set=SANDBOX, name="lea1"))
    dimension = {"code": "1000", "fiscalYear": 2022, "codeName": "Assets"}
    created = api.post("balanceSheetDimensions", dimension)
    assert created.status_code == 201, created.get_json()
    assert [d["code"] for d in api.get("balanceSheetDimensions").get_json()] == ["1000"]
    assert "balanceSheetDimensions" not in rules()
    assert rules()["bellSchedules"] == {"edorg": "schoolId"}


def test_an_organization_department_belongs_to_its_parents_reach(edfi, district, auth_headers):
    """A department's own id is new when it is created: it reaches organizations through its
    parent, so a client of LEA 255901 creates one under its school, may not move it under another
    LEA's school, and the other LEA's client does not see it."""
    district()
    lea1 = EdFi(edfi.client, auth_headers(edorgs=("255901",), claim_set=SANDBOX, name="lea1"))
    lea2 = EdFi(edfi.client, auth_headers(edorgs=("255902",), claim_set=SANDBOX, name="lea2"))
    department = {
        "organizationDepartmentId": 255901777,
        "nameOfInstitution": "Math Department",
        "parentEducationOrganizationReference": {"educationOrganizationId": 255901001},
        "categories": [
            {
                "educationOrganizationCategoryDescriptor": "uri://ed-fi.org/"
                "EducationOrganizationCategoryDescriptor#Organization Department"
            }
        ],
    }
    created = lea1.post("organizationDepartments", department)
    assert created.status_code == 201, created.get_json()
    dept_id = created.headers["Location"].rsplit("/", 1)[-1]
    moved = {
        **department,
        "parentEducationOrganizationReference": {"educationOrganizationId": 255902001},
    }
    problem(lea1.put("organizationDepartments", dept_id, moved), 403, "security:authorization")
    assert lea2.get("organizationDepartments").get_json() == []
    assert [
        d["organizationDepartmentId"] for d in lea1.get("organizationDepartments").get_json()
    ] == [255901777]
    # the derivation takes a role-named organization id of the key when no plain one is there
    assert rules()["programEvaluations"] == {"edorg": "programEducationOrganizationId"}


def _course(code: str, edorg: int) -> dict:
    return {
        "courseCode": code,
        "educationOrganizationReference": {"educationOrganizationId": edorg},
        "courseTitle": code,
        "numberOfParts": 1,
        "identificationCodes": [
            {
                "courseIdentificationSystemDescriptor": (
                    "uri://ed-fi.org/CourseIdentificationSystemDescriptor#LEA course code"
                ),
                "identificationCode": code,
            }
        ],
    }


def test_inverted_reads_let_a_school_read_its_leas_courses(edfi, district, auth_headers):
    """Ed-Fi Sandbox reads courses with RelationshipsWithEdOrgsAndPeopleInverted too: a school's
    client reads the courses its LEA defines (upward), never another LEA's, and may not write
    them (Update is not inverted)."""
    district()
    lea_course = edfi.create("courses", _course("LEA-ALG", 255901))
    other_course = edfi.create("courses", _course("OTHER-ALG", 255902))
    school_course = edfi.create("courses", _course("SCH-ALG", 255901001))
    school = EdFi(edfi.client, auth_headers(edorgs=("255901001",), claim_set=SANDBOX, name="s1"))
    assert school.get(f"courses/{lea_course}").status_code == 200
    assert school.get(f"courses/{school_course}").status_code == 200
    problem(school.get(f"courses/{other_course}"), 403, "security:authorization")
    codes = {c["courseCode"] for c in school.get("courses").get_json()}
    assert {"LEA-ALG", "SCH-ALG"} <= codes and "OTHER-ALG" not in codes
    problem(
        school.put("courses", lea_course, {**_course("LEA-ALG", 255901), "courseTitle": "Mine"}),
        403,
        "security:authorization",
    )
    # a sibling school's course is not upward: not read
    sibling = edfi.create("courses", _course("SIB-ALG", 255901107))
    problem(school.get(f"courses/{sibling}"), 403, "security:authorization")
