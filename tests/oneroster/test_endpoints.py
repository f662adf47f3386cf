"""Every one of the 55 paths, with the records each must return."""

from __future__ import annotations

import pytest

from gateway.oneroster.catalogue import catalogue
from tests.oneroster.conftest import ids
from tests.oneroster.factories import BASE

COLLECTIONS = [
    ("/academicSessions", "academicSessions", ["gp1", "gp2", "gp3", "t1", "t2", "y1"]),
    ("/terms", "academicSessions", ["t1", "t2"]),
    ("/gradingPeriods", "academicSessions", ["gp1", "gp2", "gp3"]),
    ("/orgs", "orgs", ["d1", "d2", "s1", "s2", "s3"]),
    ("/schools", "orgs", ["s1", "s2", "s3"]),
    ("/courses", "courses", ["c1", "c2", "c3"]),
    ("/classes", "classes", ["k1", "k2", "k3", "k4"]),
    (
        "/enrollments",
        "enrollments",
        [
            "e-s1-k1",
            "e-s1-k2",
            "e-s2-k1",
            "e-s3-k1",
            "e-s4-k2",
            "e-s5-k2",
            "e-s6-k3",
            "e-s7-k4",
            "e-t1-k1",
            "e-t1-k2",
            "e-t2-k3",
        ],
    ),
    (
        "/users",
        "users",
        ["u-p1", "u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-s6", "u-s7", "u-t1", "u-t2"],
    ),
    ("/students", "users", ["u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-s6", "u-s7"]),
    ("/teachers", "users", ["u-t1", "u-t2"]),
    ("/demographics", "demographics", ["u-s1", "u-s7"]),
    ("/resources", "resources", ["res1", "res2"]),
    ("/categories", "categories", ["cat1", "cat2"]),
    ("/lineItems", "lineItems", ["li1", "li2", "li4"]),
    ("/results", "results", ["r1", "r2", "r3", "r4"]),
    ("/terms/t1/classes", "classes", ["k1", "k3", "k4"]),
    ("/terms/t1/gradingPeriods", "academicSessions", ["gp1", "gp2"]),
    ("/schools/s1/classes", "classes", ["k1", "k2"]),
    ("/schools/s1/courses", "courses", ["c1"]),
    ("/schools/s2/enrollments", "enrollments", ["e-s6-k3", "e-t2-k3"]),
    ("/schools/s1/students", "users", ["u-s1", "u-s2", "u-s3", "u-s4", "u-s5"]),
    ("/schools/s1/teachers", "users", ["u-t1"]),
    ("/schools/s1/terms", "academicSessions", ["t1", "t2"]),
    (
        "/schools/s1/classes/k2/enrollments",
        "enrollments",
        ["e-s1-k2", "e-s4-k2", "e-s5-k2", "e-t1-k2"],
    ),
    ("/schools/s1/classes/k1/students", "users", ["u-s1", "u-s2", "u-s3"]),
    ("/schools/s1/classes/k1/teachers", "users", ["u-t1"]),
    ("/courses/c1/classes", "classes", ["k1", "k2"]),
    ("/courses/c1/resources", "resources", ["res1"]),
    ("/classes/k2/students", "users", ["u-s1", "u-s4", "u-s5"]),
    ("/classes/k3/teachers", "users", ["u-t2"]),
    ("/classes/k1/lineItems", "lineItems", ["li1"]),
    ("/classes/k1/results", "results", ["r1", "r2"]),
    ("/classes/k1/lineItems/li1/results", "results", ["r1", "r2"]),
    ("/classes/k2/students/u-s1/results", "results", ["r3"]),
    ("/classes/k3/resources", "resources", ["res2"]),
    ("/users/u-s1/classes", "classes", ["k1", "k2"]),
    ("/students/u-s6/classes", "classes", ["k3"]),
    ("/teachers/u-t1/classes", "classes", ["k1", "k2"]),
]

SINGLES = [
    ("/academicSessions/y1", "academicSession"),
    ("/terms/t2", "academicSession"),
    ("/gradingPeriods/gp3", "academicSession"),
    ("/orgs/d1", "org"),
    ("/schools/s2", "org"),
    ("/courses/c2", "course"),
    ("/classes/k3", "class"),
    ("/enrollments/e-t1-k1", "enrollment"),
    ("/users/u-p1", "user"),
    ("/students/u-s2", "user"),
    ("/teachers/u-t2", "user"),
    ("/demographics/u-s1", "demographics"),
    ("/resources/res2", "resource"),
    ("/categories/cat2", "category"),
    ("/lineItems/li2", "lineItem"),
    ("/results/r3", "result"),
]

# Parents that exist but are the wrong type, are missing, or do not contain the child.
MISSING_PARENTS = [
    "/terms/nope/classes",  # (any academic session a class can name is a parent)
    "/terms/nope/gradingPeriods",
    "/schools/d1/classes",
    "/schools/nope/courses",
    "/schools/nope/enrollments",
    "/schools/nope/students",
    "/schools/nope/teachers",
    "/schools/nope/terms",
    "/schools/s2/classes/k1/enrollments",
    "/schools/s1/classes/nope/students",
    "/schools/s2/classes/k1/teachers",
    "/courses/nope/classes",
    "/courses/nope/resources",
    "/classes/nope/students",
    "/classes/nope/teachers",
    "/classes/nope/lineItems",
    "/classes/nope/results",
    "/classes/k2/lineItems/li1/results",
    "/classes/k1/students/u-t1/results",
    "/classes/nope/resources",
    "/users/nope/classes",
    "/students/u-t1/classes",
    "/teachers/u-s1/classes",
]


def test_the_contract_has_55_paths():
    c = catalogue()
    assert 2 * len(c.views) + len(c.nested) == 55
    tested = {p for p, _, _ in COLLECTIONS} | {p for p, _ in SINGLES}
    assert len(tested) == 55


@pytest.mark.parametrize(("path", "key", "expected"), COLLECTIONS)
def test_collection(roster, get, path, key, expected):
    response = get(path)
    assert ids(response, key) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))
    assert response.mimetype == "application/json"


@pytest.mark.parametrize(("path", "key"), SINGLES)
def test_single(roster, get, path, key):
    body = get(path).get_json()
    assert list(body) == [key]
    assert body[key]["sourcedId"] == path.rsplit("/", 1)[1]


@pytest.mark.parametrize("path", MISSING_PARENTS)
def test_nested_404_when_parent_missing(roster, get, path):
    body = get(path, expect=404).get_json()
    assert body["imsx_codeMajor"] == "failure"
    field = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldValue"] == "unknownobject"


@pytest.mark.parametrize(
    "path", ["/users/nope", "/schools/d1", "/terms/y1", "/students/u-t1", "/results/nope"]
)
def test_single_unknown_or_wrong_type_is_404(roster, get, path):
    get(path, expect=404)


def test_user_shape(roster, get):
    user = get("/users/u-s1").get_json()["user"]
    assert user["givenName"] == "דוד" and user["familyName"] == "כהן"
    assert user["dateLastModified"] == "2026-01-13T08:00:00.123Z"
    assert user["enabledUser"] == "true"  # the 1.1 binding: strings
    assert user["userIds"] == [{"type": "LDAP", "identifier": "dcohen"}]
    assert user["orgs"] == [
        {"href": "http://localhost/ims/oneroster/v1p1/orgs/s1", "sourcedId": "s1", "type": "org"}
    ]
    assert user["agents"][0]["sourcedId"] == "u-p1" and user["agents"][0]["type"] == "user"
    assert user["grades"] == ["09"]
    assert "password" not in user


def test_password_never_returned(roster, get):
    assert all("password" not in u for u in get("/users").get_json()["users"])
    assert "password" not in get("/users/u-t1?fields=password,email").get_json()["user"]


def test_derived_references(roster, get):
    org = get("/orgs/d1").get_json()["org"]
    assert [c["sourcedId"] for c in org["children"]] == ["s1", "s2"]
    cls = get("/classes/k1").get_json()["class"]
    assert cls["resources"][0]["href"].endswith("/resources/res1")
    assert cls["terms"] == [
        {
            "href": "http://localhost/ims/oneroster/v1p1/academicSessions/t1",
            "sourcedId": "t1",
            "type": "academicSession",
        }
    ]
    assert cls["school"]["sourcedId"] == "s1" and cls["course"]["sourcedId"] == "c1"
    term = get("/terms/t1").get_json()["academicSession"]
    assert term["parent"]["sourcedId"] == "y1"
    assert [c["sourcedId"] for c in term["children"]] == ["gp1", "gp2"]
    assert term["startDate"] == "2025-08-01" and term["schoolYear"] == "2026"


def test_gradebook_shapes(roster, get):
    item = get("/lineItems/li1").get_json()["lineItem"]
    assert item["class"]["sourcedId"] == "k1" and item["category"]["type"] == "category"
    assert item["gradingPeriod"]["sourcedId"] == "gp1" and item["resultValueMax"] == 100
    result = get("/results/r1").get_json()["result"]
    assert result["score"] == 93.5 and result["scoreStatus"] == "fully graded"
    assert result["lineItem"]["sourcedId"] == "li1" and result["student"]["sourcedId"] == "u-s1"


def test_demographics_booleans(roster, get):
    demo = get("/demographics/u-s1").get_json()["demographics"]
    assert demo["white"] == "true" and demo["asian"] == "false" and demo["sex"] == "male"
    assert demo["birthDate"] == "2010-03-04"


def test_enrollment_shape(roster, get):
    e = get("/enrollments/e-t1-k1").get_json()["enrollment"]
    assert e["primary"] == "true" and e["role"] == "teacher" and e["beginDate"] == "2025-08-01"
    assert {e["user"]["type"], e["class"]["type"], e["school"]["type"]} == {"user", "class", "org"}


def test_method_not_allowed_uses_imsx(roster, client, headers):

    response = client.put(BASE + "/users/u-s1", json={}, headers=headers)
    assert response.status_code == 405
    assert response.get_json()["imsx_codeMajor"] == "failure"


@pytest.mark.parametrize("path", ["/users/a%00b", "/users/" + "x" * 300, "/schools/a%00b/classes"])
def test_unstorable_ids_are_unknown_objects(roster, get, path):
    get(path, expect=404)


def test_password_returned_only_to_allowed_clients(roster, client, app, make_api_client):
    from tests.oneroster.oauth1_client import Consumer, signed

    key, secret = make_api_client(name="sso-provisioner")
    app.config["ONEROSTER_PASSWORD_CLIENTS"] = f"another-key, {key}"
    try:
        url, headers, _ = signed(Consumer(key, secret), "GET", f"http://localhost{BASE}/users/u-t1")
        response = client.get(url, headers=headers)
    finally:
        app.config.pop("ONEROSTER_PASSWORD_CLIENTS")
    assert response.get_json()["user"]["password"] == "hunter2"


def test_metadata_round_trips_with_its_nulls(roster, get, db_session):
    from gateway.oneroster.models import Course

    course = db_session.get(Course, "c3")
    course.metadata_ = {"edfi": {"courseCode": "READ3", "note": None}, "tags": ["a", None]}
    db_session.flush()
    body = get("/courses/c3").get_json()["course"]
    assert body["metadata"] == {"edfi": {"courseCode": "READ3", "note": None}, "tags": ["a", None]}
    assert body["title"] == "Reading" and "schoolYear" not in body
    assert "metadata" not in get("/courses/c2").get_json()["course"]
    assert get("/courses?fields=metadata&filter=" + "metadata.tags~'a'").get_json()["courses"] == [
        {"metadata": body["metadata"]}
    ]


def test_reads_are_audited_with_record_ids(roster, get, owner_engine):
    from sqlalchemy import select

    from gateway.audit import AuditRecord

    get("/schools/s1/students?limit=2&filter=" + "grades%3D'10'")
    get("/users/u-s1")
    with owner_engine.connect() as conn:  # the trail is the operator's to read
        rows = conn.execute(
            select(AuditRecord.path, AuditRecord.record_ids, AuditRecord.action)
            .where(AuditRecord.path.like("/ims/oneroster/%"))
            .order_by(AuditRecord.id.desc())
            .limit(2)
        ).all()
    assert rows[0] == ("/ims/oneroster/v1p1/users/u-s1", ["u-s1"], "read")
    assert rows[1][0] == "/ims/oneroster/v1p1/schools/s1/students"
    assert sorted(rows[1][1]) == ["u-s2", "u-s5"]


def test_internal_error_uses_imsx_and_leaks_no_sql(roster, get, db_session):
    from gateway.oneroster.models import User

    # A row written by hand with orgs as an object, not a list: the database refuses to expand it.
    db_session.get(User, "u-s3").org_ids = {"not": "a list"}
    db_session.flush()
    body = get("/users/u-s3", expect=500).get_json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    minor = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert minor == "internal_server_error"
    assert "SELECT" not in body["imsx_description"] and "jsonb" not in body["imsx_description"]


def test_all_55_paths_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert len([p for p in paths if p.startswith(BASE + "/")]) == 55
    assert BASE + "/schools/{sid}/classes/{cid}/students" in paths
    documented = {p["name"] for p in paths[BASE + "/users"]["get"]["parameters"]}
    assert {"limit", "offset", "filter", "sort", "orderBy", "fields"} <= documented


def test_exhausted_connection_pool_is_429_server_busy(test_config):
    from gateway.app import create_app

    settings = {**test_config.as_dict(), "DB_POOL_SIZE": 1, "DB_MAX_OVERFLOW": 0}
    settings["DB_POOL_TIMEOUT"] = 1
    busy_app = create_app(settings)
    engine = busy_app.extensions["gateway.db"].engine
    try:
        with engine.connect():  # holds the pool's only connection
            response = busy_app.test_client().get(
                BASE + "/orgs", headers={"Authorization": "Bearer any"}
            )
    finally:
        engine.dispose()
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    body = response.get_json()
    assert (
        body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        == "server_busy"
    )


def test_reference_lists_of_any_length_keep_their_stored_order(roster, db_session, get):
    # Zero, one and several references take different SQL paths; the JSON must not differ.
    from gateway.oneroster.models import User

    user = db_session.get(User, "u-s2")
    user.org_ids, user.agents = ["s2", "s1", "s3"], ["u-p1", "u-t1"]
    db_session.flush()
    record = get("/users/u-s2").get_json()["user"]
    assert [o["sourcedId"] for o in record["orgs"]] == ["s2", "s1", "s3"]
    assert record["orgs"][0] == {
        "href": "http://localhost/ims/oneroster/v1p1/orgs/s2",
        "sourcedId": "s2",
        "type": "org",
    }
    assert [(a["sourcedId"], a["type"]) for a in record["agents"]] == [
        ("u-p1", "user"),
        ("u-t1", "user"),
    ]
    assert get("/users/u-s3").get_json()["user"]["agents"] == []
    one = get("/users/u-s1").get_json()["user"]["agents"]
    assert one == [
        {
            "href": "http://localhost/ims/oneroster/v1p1/users/u-p1",
            "sourcedId": "u-p1",
            "type": "user",
        }
    ]
