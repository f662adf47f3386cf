"""Every Ed-Fi request leaves its audit row: each action, refused and rolled-back writes, change
queries (compliance rule 3)."""

from __future__ import annotations

import uuid

from tests.edfi.conftest import enrollment, student
from tests.edfi.test_authorization import two_leas as two_leas_fixture

two_leas = two_leas_fixture


def cid() -> str:
    return f"edfi-audit-{uuid.uuid4()}"


def test_each_action_leaves_one_row(edfi, district, audit_rows):
    district()
    steps = []
    c = cid()
    r = edfi.post("students", student("730001"), **{"X-Correlation-Id": c})
    assert r.status_code == 201
    new_id = r.headers["Location"].rsplit("/", 1)[1]
    steps.append((c, "create", "POST", 201))
    c = cid()
    assert edfi.get(f"students/{new_id}", headers={"X-Correlation-Id": c}).status_code == 200
    steps.append((c, "read", "GET", 200))
    c = cid()
    body = student("730001", first="Lena")
    assert edfi.put("students", new_id, body, **{"X-Correlation-Id": c}).status_code == 204
    steps.append((c, "update", "PUT", 204))
    c = cid()
    assert edfi.delete("students", new_id, **{"X-Correlation-Id": c}).status_code == 204
    steps.append((c, "delete", "DELETE", 204))
    for correlation_id, action, method, status in steps:
        [row] = audit_rows(correlation_id)
        assert (row["action"], row["method"], row["status"]) == (action, method, status)
        assert row["client_key"]
    [read] = audit_rows(steps[1][0])
    assert read["record_ids"] == [new_id]


def test_refused_and_rolled_back_writes_leave_their_row(two_leas, audit_rows):
    ids, lea1, _ = two_leas
    # 403: a write into another LEA's school
    c = cid()
    refused = lea1.post(
        "studentSchoolAssociations",
        enrollment("720002", 255902001, "2022-08-22"),
        **{"X-Correlation-Id": c},
    )
    assert refused.status_code == 403
    [row] = audit_rows(c)
    assert (row["action"], row["status"]) == ("create", 403)
    # 400: an invalid body
    c = cid()
    assert lea1.post("students", {"firstName": "x"}, **{"X-Correlation-Id": c}).status_code == 400
    assert [r["status"] for r in audit_rows(c)] == [400]
    # 409: a missing reference makes the write roll back; its row stays
    c = cid()
    missing = lea1.post(
        "studentSchoolAssociations", enrollment("799999", 255901001), **{"X-Correlation-Id": c}
    )
    assert missing.status_code == 409
    assert [(r["action"], r["status"]) for r in audit_rows(c)] == [("create", 409)]
    # 403 by id, read
    c = cid()
    assert lea1.get(f"students/{ids['s2']}", headers={"X-Correlation-Id": c}).status_code == 403
    assert [(r["action"], r["status"]) for r in audit_rows(c)] == [("read", 403)]


def test_change_queries_are_audited(edfi, audit_rows):
    c = cid()
    r = edfi.client.get(
        "/changeQueries/v1/availableChangeVersions",
        headers={**edfi.headers, "X-Correlation-Id": c},
    )
    assert r.status_code == 200
    [row] = audit_rows(c)
    assert row["path"] == "/changeQueries/v1/availableChangeVersions"
    assert row["action"] == "read" and row["client_key"]
    c = cid()
    anonymous = edfi.client.get(
        "/changeQueries/v1/availableChangeVersions", headers={"X-Correlation-Id": c}
    )
    assert anonymous.status_code == 401
    assert [(r["status"], r["client_key"]) for r in audit_rows(c)] == [(401, None)]
