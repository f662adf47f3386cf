"""OneRoster REST gradebook writes reach Ed-Fi in the same transaction, without echoing back."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.identifiers import sourced_id
from tests.mapping.conftest import OR, SECTION

CLASS = sourced_id("sections", SECTION)
STUDENT = sourced_id("students", {"studentUniqueId": "604822"})
HW1 = sourced_id(
    "gradebookEntries", {"gradebookEntryIdentifier": "HW-1", "namespace": "uri://gbisd.edu"}
)


def ref(sid: str, kind: str) -> dict:
    return {"sourcedId": sid, "type": kind, "href": f"http://x/{sid}"}


def line_item(title: str, category: str, grading_period: str = "") -> dict:
    """A lineItem with every field 1.1 requires (gradingPeriod: any academic session)."""
    return {
        "lineItem": {
            "title": title,
            "assignDate": "2021-10-01",
            "dueDate": "2021-10-08",
            "class": ref(CLASS, "class"),
            "category": ref(category, "category"),
            "gradingPeriod": ref(grading_period, "academicSession"),
            "resultValueMin": 0,
            "resultValueMax": 20,
        }
    }


def _category_and_term(db_session) -> tuple[str, str]:
    cat = db_session.scalar(sa.text("SELECT sourced_id FROM categories"))
    term = db_session.scalar(
        sa.text("SELECT sourced_id FROM academic_sessions WHERE type <> 'schoolYear'")
    )
    return cat, term


def test_a_title_longer_than_edfi_allows_is_accepted_and_fitted(
    rostered, client, auth_headers, edfi, db_session
):
    """1.1 sets no length limit; Ed-Fi's title holds 100 characters: the OneRoster record keeps
    the whole title, the Ed-Fi entry its first 100 characters."""
    cat, term = _category_and_term(db_session)
    title = "Long project: " + "x" * 200
    r = client.put(
        f"{OR}/lineItems/essay-9", json=line_item(title, cat, term), headers=auth_headers()
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["lineItem"]["title"] == title
    (entry,) = edfi.get(
        "gradebookEntries", query_string={"gradebookEntryIdentifier": "essay-9"}
    ).get_json()
    assert entry["title"] == title[:100]


def test_line_item_and_result_put_create_edfi_records(
    rostered, client, auth_headers, edfi, db_session
):
    headers = auth_headers()
    cat, term = _category_and_term(db_session)
    r = client.put(f"{OR}/lineItems/quiz-7", json=line_item("Quiz 7", cat, term), headers=headers)
    assert r.status_code == 201, r.get_json()
    (entry,) = edfi.get(
        "gradebookEntries", query_string={"gradebookEntryIdentifier": "quiz-7"}
    ).get_json()
    assert (entry["title"], entry["dateAssigned"], entry["dueDate"], entry["maxPoints"]) == (
        "Quiz 7",
        "2021-10-01",
        "2021-10-08",
        20,
    )
    assert {k: v for k, v in entry["sectionReference"].items() if k != "link"} == SECTION
    result = {
        "result": {
            "lineItem": ref("quiz-7", "lineItem"),
            "student": ref(STUDENT, "student"),
            "scoreStatus": "fully graded",
            "score": 17,
            "scoreDate": "2021-10-09",
        }
    }
    r = client.put(f"{OR}/results/quiz-7-lisa", json=result, headers=headers)
    assert r.status_code == 201, r.get_json()
    (graded,) = edfi.get(
        "studentGradebookEntries", query_string={"gradebookEntryIdentifier": "quiz-7"}
    ).get_json()
    assert graded["studentReference"]["studentUniqueId"] == "604822"
    assert (graded["numericGradeEarned"], graded["dateFulfilled"]) == (17, "2021-10-09")
    # no echo: the OneRoster rows keep their origin and sourcedIds, no Ed-Fi-born copy appears
    origins = db_session.execute(
        sa.text("SELECT sourced_id, origin FROM line_items ORDER BY origin")
    ).all()
    assert sorted(origins) == sorted([(HW1, "edfi"), ("quiz-7", "oneroster-rest")])
    # deleting the line item deletes the Ed-Fi entry and its student entries
    assert client.delete(f"{OR}/lineItems/quiz-7", headers=headers).status_code in (200, 204)
    assert (
        edfi.get("gradebookEntries", query_string={"gradebookEntryIdentifier": "quiz-7"}).get_json()
        == []
    )
    deleted = edfi.get("gradebookEntries/deletes").get_json()
    assert any(d["keyValues"].get("gradebookEntryIdentifier") == "quiz-7" for d in deleted)


def test_put_on_an_edfi_born_line_item_updates_the_edfi_record(
    rostered, client, auth_headers, edfi, db_session
):
    cat, term = _category_and_term(db_session)
    r = client.put(
        f"{OR}/lineItems/{HW1}",
        json=line_item("Homework 1 (revised)", cat, term),
        headers=auth_headers(),
    )
    assert r.status_code == 200, r.get_json()
    (entry,) = edfi.get(
        "gradebookEntries", query_string={"gradebookEntryIdentifier": "HW-1"}
    ).get_json()
    assert entry["title"] == "Homework 1 (revised)" and entry["namespace"] == "uri://gbisd.edu"
    assert entry["gradebookEntryTypeDescriptor"].endswith("#Homework")  # Ed-Fi-only field kept


def test_line_item_of_a_class_without_edfi_section_stays_oneroster_only(
    rostered, client, auth_headers, edfi, db_session
):
    db_session.execute(
        sa.text(
            "INSERT INTO classes (sourced_id, title, school_sourced_id) "
            "SELECT 'lms-class', 'LMS only', school_sourced_id FROM classes LIMIT 1"
        )
    )
    cat, term = _category_and_term(db_session)
    body = line_item("Extra", cat, term)
    body["lineItem"]["class"] = ref("lms-class", "class")
    r = client.put(f"{OR}/lineItems/extra-1", json=body, headers=auth_headers())
    assert r.status_code == 201, r.get_json()
    assert (
        edfi.get(
            "gradebookEntries", query_string={"gradebookEntryIdentifier": "extra-1"}
        ).get_json()
        == []
    )
