"""Discovery, OpenAPI metadata and dependencies."""

from __future__ import annotations

import re


def test_discovery_is_public_with_absolute_urls(client):
    r = client.get("/")
    assert r.status_code == 200
    body = r.get_json()
    assert re.fullmatch(r"\d+(\.\d+)+", body["version"])
    assert tuple(int(p) for p in body["version"].split(".")) >= (7, 3)
    assert {"name": "Ed-Fi", "version": "5.2.0"} in body["dataModels"]
    for url in body["urls"].values():
        assert url.startswith("http://localhost/")
    assert body["urls"]["dataManagementApi"] == "http://localhost/data/v3/"


def test_swagger_documents_what_is_served(client):
    resources = client.get("/metadata/data/v3/resources/swagger.json").get_json()
    assert "/ed-fi/students" in resources["paths"]
    assert "/ed-fi/students/{id}" in resources["paths"]
    assert "/ed-fi/academicWeeks" not in resources["paths"]
    descriptors = client.get("/metadata/data/v3/descriptors/swagger.json").get_json()
    assert "/ed-fi/gradeLevelDescriptors" in descriptors["paths"]


def test_dependencies_order_references_before_referrers(client):
    deps = client.get("/metadata/data/v3/dependencies").get_json()
    order = {d["resource"]: d["order"] for d in deps}
    assert (
        order["/ed-fi/localEducationAgencies"]
        < order["/ed-fi/schools"]
        < order["/ed-fi/studentSchoolAssociations"]
    )
    assert order["/ed-fi/sections"] < order["/ed-fi/studentSectionAssociations"]
    assert order["/ed-fi/gradeLevelDescriptors"] == 1
