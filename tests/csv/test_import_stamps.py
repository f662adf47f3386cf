"""dateLastModified is when the gateway stored a change, not the package's own stamp: delta readers
(REST `dateLastModified>` filters, `export?since=`) see every imported change, and rows an import
leaves unchanged keep their stamp."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from gateway.oneroster.csv.export import export_stream
from tests.csv.conftest import write_package
from tests.csv.district import district

OR = "/ims/oneroster/v1p1"


def _now(session) -> datetime:
    return session.execute(text("SELECT now()")).scalar_one()


def test_imported_rows_carry_the_time_they_were_stored(
    tmp_path, app, db_session, do_import, client, auth_headers
):
    # The package says 2026-01-15T10:01:02Z; it is imported later than that.
    assert do_import(write_package(tmp_path, district())).status == "applied"
    stored = _now(db_session)
    stamps = db_session.execute(text("SELECT DISTINCT date_last_modified FROM users")).scalars()
    assert list(stamps) == [stored]

    since = (stored - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.get(
        f"{OR}/users",
        query_string={"filter": f"dateLastModified>'{since}'"},
        headers=auth_headers(),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {u["sourcedId"] for u in response.get_json()["users"]} == {
        "u-t1",
        "u-s1",
        "u-s2",
        "u-p1",
    }
    with app.app_context():
        data = b"".join(export_stream(db_session, since=stored - timedelta(seconds=30)))
    users = zipfile.ZipFile(io.BytesIO(data)).read("users.csv").decode()
    assert "u-s1" in users and "u-p1" in users


def test_unchanged_rows_keep_their_stamp_changed_rows_get_a_new_one(
    tmp_path, db_session, do_import
):
    data = district()
    assert do_import(write_package(tmp_path, data)).status == "applied"
    old = datetime(2026, 2, 1, tzinfo=UTC)
    db_session.execute(text("UPDATE users SET date_last_modified = :t"), {"t": old})

    data["users"][1]["givenName"] = "Dave"  # u-s1 changes, the others are as stored
    for row in data["users"]:
        row["dateLastModified"] = "2026-03-01T00:00:00Z"  # a producer restamping every row
    report = do_import(write_package(tmp_path, data))
    assert report.status == "applied", report.as_dict()
    assert report.file("users.csv").counts["updated"] == 1
    stamps = dict(
        db_session.execute(text("SELECT sourced_id, date_last_modified FROM users")).all()
    )
    assert stamps.pop("u-s1") == _now(db_session)
    assert set(stamps.values()) == {old}


def test_a_delta_deletion_is_stamped_when_stored(tmp_path, db_session, do_import):
    data = district()
    assert do_import(write_package(tmp_path, data)).status == "applied"
    db_session.execute(text("UPDATE users SET date_last_modified = '2026-02-01T00:00:00Z'"))
    row = {**data["users"][3], "status": "tobedeleted", "dateLastModified": "2026-01-01T00:00:00Z"}
    assert do_import(write_package(tmp_path, {"users": [row]}, {"users": "delta"})).status == (
        "applied"
    )
    status, stamp = db_session.execute(
        text("SELECT status, date_last_modified FROM users WHERE sourced_id = :s"),
        {"s": row["sourcedId"]},
    ).one()
    assert (status, stamp) == ("tobedeleted", _now(db_session))
