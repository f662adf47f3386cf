"""Mapping under concurrency: several threads write students and their school associations
through the Ed-Fi API at once (each request its own committed transaction); afterwards every
OneRoster user matches its Ed-Fi student (name and grades) and `gateway mapping verify` is clean."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.db import get_session
from gateway.edfi.descriptors import load_descriptors
from gateway.mapping.verify import check
from gateway.paths import DESCRIPTORS_DIR
from tests.csv.conftest import own_app  # noqa: F401  (fixture)
from tests.edfi.conftest import GRADE, enrollment, lea, school, student
from tests.oneroster.live import api_client

DATA = "/data/v3/ed-fi"
LEA_ID, SCHOOL_ID = 255901, 255901001
STUDENTS = [f"S{n:03d}" for n in range(4)]
GRADES = ("Ninth grade", "Tenth grade", "Eleventh grade")
SOAK_SECONDS = 20


@pytest.mark.timeout(300)
def test_concurrent_student_and_association_writes_leave_both_sides_equal(own_app):  # noqa: F811
    app = own_app("gateway_mapping_soak")
    with app.app_context():
        session = get_session()
        load_descriptors(session, DESCRIPTORS_DIR)
        session.commit()
    _, headers = api_client(app, "soak")
    web = app.test_client()

    def post(resource: str, body: dict) -> int:
        return web.post(f"{DATA}/{resource}", json=body, headers=headers).status_code

    assert post("localEducationAgencies", lea(LEA_ID)) == 201
    assert post("schools", school(SCHOOL_ID, LEA_ID)) == 201
    for uid in STUDENTS:
        assert post("students", student(uid)) == 201
        assert post("studentSchoolAssociations", enrollment(uid, SCHOOL_ID)) == 201

    failures: list[str] = []
    writes = [0]
    stop = time.monotonic() + SOAK_SECONDS

    def writer(kind: str, offset: int) -> None:
        n = offset
        client = app.test_client()
        while time.monotonic() < stop:
            uid = STUDENTS[n % len(STUDENTS)]
            if kind == "student":
                body, resource = student(uid, first=f"Name{n}"), "students"
            else:
                body = {
                    **enrollment(uid, SCHOOL_ID),
                    "entryGradeLevelDescriptor": GRADE + GRADES[n % len(GRADES)],
                }
                resource = "studentSchoolAssociations"
            response = client.post(f"{DATA}/{resource}", json=body, headers=headers)
            if response.status_code not in (200, 201):
                failures.append(f"{resource} {uid}: {response.status_code} {response.get_json()}")
            writes[0] += 1
            n += 1

    threads = [
        threading.Thread(target=writer, args=(kind, offset))
        for offset in range(3)
        for kind in ("student", "association")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert writes[0] > 40  # the soak did write concurrently
    print(f"\n{writes[0]} concurrent writes in {SOAK_SECONDS} s")

    with app.app_context():
        # the rebuild in verify re-derives each user (name, grades) from the committed Ed-Fi rows:
        # a stale user is drift, named with the field and both values
        drift = check(get_session())
        assert drift.clean, drift.lines()
