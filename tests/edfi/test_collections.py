"""Collection reads: filters, offset/limit, Total-Count, cursor paging, partitions."""

from __future__ import annotations

import pytest

from tests.edfi.conftest import enrollment, school, student
from tests.edfi.test_resources import problem


@pytest.fixture
def students(edfi, district):
    district()
    for n in range(30):
        edfi.create(
            "students",
            student(f"7000{n:02d}", first=f"F{n:02d}", last="Same" if n % 3 == 0 else "Other"),
        )
    return edfi


def test_default_limit_and_offset_are_stable(students):
    # no limit: the ODS/API's DefaultPageSizeLimit (500), so all 30 at once
    every = students.get("students").get_json()
    assert len(every) == 30
    first = students.get("students", query_string={"limit": 25}).get_json()
    rest = students.get("students", query_string={"offset": 25}).get_json()
    assert len(rest) == 5
    assert [d["id"] for d in first + rest] == [d["id"] for d in every]
    ids = [d["id"] for d in first + rest]
    assert len(set(ids)) == 30
    again = students.get("students", query_string={"offset": 0, "limit": 30}).get_json()
    assert [d["id"] for d in again] == ids


def test_total_count_any_case_and_limit_zero(students):
    r = students.get("students", query_string={"totalCount": "TRUE", "limit": 5})
    assert r.headers["Total-Count"] == "30"
    assert len(r.get_json()) == 5
    r = students.get("students", query_string={"totalcount": "true", "limit": 0})
    assert r.status_code == 200
    assert r.get_json() == []
    assert r.headers["Total-Count"] == "30"
    assert "Total-Count" not in students.get("students").headers


def test_limit_above_500_and_bad_values_are_parameter_errors(students):
    problem(
        students.get("students", query_string={"limit": 501}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(
        students.get("students", query_string={"offset": -1}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(  # beyond PostgreSQL's bigint OFFSET
        students.get("students", query_string={"offset": 10**20}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(
        students.get("students", query_string={"limit": "ten"}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(
        students.get("students", query_string={"totalCount": "maybe"}),
        400,
        "bad-request:parameter-validation-failed",
    )
    # a parameter naming no property is ignored, as the ODS/API ignores it
    assert students.get("students", query_string={"noSuchProperty": "x"}).status_code == 200
    problem(
        students.get("students", query_string={"birthDate": "yesterday"}),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert students.get("students", query_string={"limit": 500}).status_code == 200


def test_offset_past_the_end_is_empty(students):
    assert students.get("students", query_string={"offset": 1000}).get_json() == []


def test_query_by_scalar_and_flattened_reference_keys(students):
    same = students.get("students", query_string={"lastSurname": "Same", "limit": 100}).get_json()
    assert len(same) == 10 and all(d["lastSurname"] == "Same" for d in same)
    students.create("studentSchoolAssociations", enrollment("700001", 255901001))
    students.create("studentSchoolAssociations", enrollment("700002", 255901107))
    at_school = students.get(
        "studentSchoolAssociations", query_string={"schoolId": 255901001}
    ).get_json()
    assert [d["studentReference"]["studentUniqueId"] for d in at_school] == ["700001"]
    by_date = students.get(
        "studentSchoolAssociations",
        query_string={"entryDate": "2021-08-23", "studentUniqueId": "700002"},
    )
    assert len(by_date.get_json()) == 1


def test_cursor_paging_walks_every_record_once(students):
    seen, token, pages = [], None, 0
    while True:
        # the first page without pageSize (ODS: a pageSize needs a pageToken), then the tokens
        params = {"pageSize": 7, "pageToken": token} if token else {"limit": 7}
        r = students.get("students", query_string=params)
        assert r.status_code == 200
        seen += [d["id"] for d in r.get_json()]
        pages += 1
        token = r.headers.get("Next-Page-Token")
        if not token:
            break
    # as the ODS/API 7.3: every non-empty page names the next; the walk ends on an empty page
    assert pages == 6
    assert len(seen) == len(set(seen)) == 30


def test_the_last_full_page_names_an_empty_next_page(students):
    r = students.get("students", query_string={"limit": 30})
    assert len(r.get_json()) == 30
    after = students.get(
        "students", query_string={"pageSize": 30, "pageToken": r.headers["Next-Page-Token"]}
    )
    assert after.get_json() == []
    assert "Next-Page-Token" not in after.headers


def test_cursor_and_offset_paging_do_not_mix(students):
    problem(
        students.get("students", query_string={"pageSize": 5, "offset": 5}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(
        students.get("students", query_string={"pageToken": "garbage!"}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(
        students.get("students", query_string={"pageSize": 501}),
        400,
        "bad-request:parameter-validation-failed",
    )


def test_a_page_size_needs_a_page_token_as_the_ods_words_it(students):
    body = problem(
        students.get("students", query_string={"pageSize": 2}),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert body["detail"] == "The request construction was invalid."
    assert body["errors"] == ["PageToken is required when pageSize is specified."]


def test_partitions_cover_the_collection(students):
    r = students.get(
        "students/partitions", query_string={"number": 4, "allowSmallPartitions": True}
    )
    tokens = r.get_json()["pageTokens"]
    assert len(tokens) == 4
    seen = []
    for token in tokens:
        while token:
            page = students.get("students", query_string={"pageToken": token, "pageSize": 4})
            seen += [d["id"] for d in page.get_json()]
            token = page.headers.get("Next-Page-Token")
    assert len(seen) == len(set(seen)) == 30
    body = problem(
        students.get("students/partitions", query_string={"number": 0}),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert body["errors"] == ["Number of partitions must be between 1 and 200."]


def test_partitions_are_no_smaller_than_five_full_pages_unless_allowed(students):
    """As the ODS/API: 30 records make one partition whatever the number asked (default 10),
    unless allowSmallPartitions=true; a change-version window filters the partitioned rows."""
    assert len(students.get("students/partitions").get_json()["pageTokens"]) == 1
    small = students.get("students/partitions", query_string={"allowSmallPartitions": "true"})
    assert len(small.get_json()["pageTokens"]) == 10
    newest = students.get("students", query_string={"limit": 500}).get_json()
    latest = max(int(d["_etag"]) for d in newest)
    later = students.get(
        "students/partitions",
        query_string={"minChangeVersion": latest + 1, "allowSmallPartitions": "true"},
    )
    assert later.get_json()["pageTokens"] == []


def test_collection_items_equal_the_documents_read_by_id(edfi, district):
    """Pages are serialised by PostgreSQL, single records in Python: both give the same document."""
    district()
    edfi.create("students", student("730001", first="Zoë", last="O'Neil"))
    edfi.create(
        "studentSchoolAssociations",
        {
            **enrollment("730001", 255901107),
            "exitWithdrawDate": "2022-05-30",
            "fullTimeEquivalency": 0.5,
            "primarySchool": True,
        },
    )
    for resource in ("schools", "students", "studentSchoolAssociations", "localEducationAgencies"):
        for item in edfi.get(resource, query_string={"limit": 500}).get_json():
            assert item == edfi.get(f"{resource}/{item['id']}").get_json(), resource
    [ssa] = edfi.get("studentSchoolAssociations").get_json()
    assert ssa["schoolReference"]["link"]["rel"] == "School"
    assert ssa["studentReference"]["link"]["href"].startswith("/ed-fi/students/")
    [grade] = edfi.get(
        "gradeLevelDescriptors", query_string={"codeValue": "Ninth grade"}
    ).get_json()
    assert grade == edfi.get(f"gradeLevelDescriptors/{grade['id']}").get_json()


def test_records_written_without_an_etag_get_one(edfi, district, db_session):
    """Rows another context writes (e.g. a projection) may leave _etag empty: the change version
    stands in, the same in pages, single reads and If-Match."""
    import sqlalchemy as sa

    ids = district()
    db_session.execute(sa.text("UPDATE schools SET _etag = NULL WHERE school_id = 255901001"))
    doc = edfi.get(f"schools/{ids[255901001]}").get_json()
    assert doc["_etag"]
    [item] = edfi.get("schools", query_string={"schoolId": 255901001}).get_json()
    assert item == doc
    r = edfi.put(
        "schools",
        ids[255901001],
        school(255901001, 255901, "X"),
        **{"If-Match": f'"{doc["_etag"]}"'},
    )
    assert r.status_code == 204


def test_python_serializer_matches_the_single_record_shape(edfi, district, db_session):
    """The fallback for resources too wide for one SQL concat() gives the same documents."""
    import sqlalchemy as sa

    from gateway.edfi.definitions import registry
    from gateway.edfi.documents import to_document
    from gateway.edfi.queries import serializer

    district()
    edfi.create("students", student("740001"))
    edfi.create("studentSchoolAssociations", enrollment("740001", 255901001))
    res = registry().resources["studentSchoolAssociations"]
    row = db_session.execute(sa.select(res.table)).one()
    assert serializer(res)(row, {}) == to_document(res, row._mapping, {})


def test_cursor_paging_mixed_with_offset_or_total_count_is_refused_in_ods_words(students):
    token = students.get("students", query_string={"limit": 2}).headers["Next-Page-Token"]
    body = problem(
        students.get("students", query_string={"pageToken": token, "pageSize": 2, "offset": 0}),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert body["detail"] == "The request construction was invalid."
    assert body["errors"] == [
        "Both offset and pageToken parameters were provided, but they support alternative "
        "paging approaches and cannot be used together."
    ]
    body = problem(
        students.get(
            "students", query_string={"pageToken": token, "pageSize": 2, "totalCount": "true"}
        ),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert body["errors"] == [
        "Total count cannot be determined while using cursor paging (when pageToken is specified)."
    ]


def test_a_limit_beside_a_page_size_is_ignored(students):
    """The ODS/API 7.3 pages by pageSize when both are sent (its suite sends limit=0)."""
    token = students.get("students", query_string={"limit": 2}).headers["Next-Page-Token"]
    r = students.get("students", query_string={"pageToken": token, "pageSize": 2, "limit": 0})
    assert r.status_code == 200, r.get_json()
    assert len(r.get_json()) == 2
