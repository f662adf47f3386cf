"""Ed-Fi test fixtures: descriptors seeded once per test database, a small two-LEA district, and
request helpers. Everything runs against the real PostgreSQL of tests/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from gateway.edfi.descriptors import load_descriptors
from gateway.paths import DESCRIPTORS_DIR

DATA = "/data/v3/ed-fi"
GRADE = "uri://ed-fi.org/GradeLevelDescriptor#"
CATEGORY = "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#"
LEA_CATEGORY = "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent"
TERM = "uri://ed-fi.org/TermDescriptor#Fall Semester"


@pytest.fixture(scope="session")
def descriptors_loaded(app, engine):
    """The official descriptor values, committed once: every Ed-Fi test needs them."""
    with app.app_context(), Session(engine) as session:
        load_descriptors(session, DESCRIPTORS_DIR)


@pytest.fixture
def edfi(client, descriptors_loaded, auth_headers):
    # District-wide, and allowed to write descriptors in the Ed-Fi namespace for the tests.
    return EdFi(client, auth_headers(namespace="uri://ed-fi.org"))


class EdFi:
    """Thin helpers over the Flask test client for one API client's token."""

    def __init__(self, client, headers: dict[str, str]):
        self.client = client
        self.headers = headers

    def with_headers(self, headers: dict[str, str]) -> EdFi:
        return EdFi(self.client, headers)

    def post(self, resource: str, body, **headers):
        return self.client.post(
            f"{DATA}/{resource}", json=body, headers={**self.headers, **headers}
        )

    def put(self, resource: str, id_: str, body, **headers):
        return self.client.put(
            f"{DATA}/{resource}/{id_}", json=body, headers={**self.headers, **headers}
        )

    def get(self, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.get(f"{DATA}/{path}", headers=headers, **kwargs)

    def delete(self, resource: str, id_: str, **headers):
        return self.client.delete(f"{DATA}/{resource}/{id_}", headers={**self.headers, **headers})

    def create(self, resource: str, body) -> str:
        """POST and return the new id (asserts 201)."""
        r = self.post(resource, body)
        assert r.status_code == 201, json.dumps(r.get_json())
        return r.headers["Location"].rsplit("/", 1)[1]


def lea(lea_id: int, name: str = "Grand Bend ISD") -> dict:
    return {
        "localEducationAgencyId": lea_id,
        "nameOfInstitution": name,
        "localEducationAgencyCategoryDescriptor": LEA_CATEGORY,
        "categories": [
            {"educationOrganizationCategoryDescriptor": CATEGORY + "Local Education Agency"}
        ],
    }


def school(school_id: int, lea_id: int | None, name: str = "Grand Bend High School") -> dict:
    body = {
        "schoolId": school_id,
        "nameOfInstitution": name,
        "educationOrganizationCategories": [
            {"educationOrganizationCategoryDescriptor": CATEGORY + "School"}
        ],
        "gradeLevels": [{"gradeLevelDescriptor": GRADE + "Ninth grade"}],
    }
    if lea_id is not None:
        body["localEducationAgencyReference"] = {"localEducationAgencyId": lea_id}
    return body


def student(unique_id: str, first: str = "Lisa", last: str = "Woods") -> dict:
    return {
        "studentUniqueId": unique_id,
        "firstName": first,
        "lastSurname": last,
        "birthDate": "2010-09-13",
    }


def enrollment(unique_id: str, school_id: int, entry_date: str = "2021-08-23") -> dict:
    return {
        "studentReference": {"studentUniqueId": unique_id},
        "schoolReference": {"schoolId": school_id},
        "entryDate": entry_date,
        "entryGradeLevelDescriptor": GRADE + "Ninth grade",
    }


def session_body(school_id: int, name: str = "2021-2022 Fall Semester", year: int = 2022) -> dict:
    return {
        "schoolReference": {"schoolId": school_id},
        "schoolYearTypeReference": {"schoolYear": year},
        "sessionName": name,
        "termDescriptor": TERM,
        "beginDate": "2021-08-23",
        "endDate": "2021-12-17",
        "totalInstructionalDays": 81,
    }


@pytest.fixture
def district(edfi) -> Callable[..., dict]:
    """Two LEAs: 255901 with schools 255901001 and 255901107, 255902 with school 255902001."""

    def build() -> dict:
        ids = {}
        for lea_id in (255901, 255902):
            ids[lea_id] = edfi.create("localEducationAgencies", lea(lea_id, f"LEA {lea_id}"))
        for school_id, lea_id in ((255901001, 255901), (255901107, 255901), (255902001, 255902)):
            ids[school_id] = edfi.create(
                "schools", school(school_id, lea_id, f"School {school_id}")
            )
        return ids

    return build
