"""Discovery, OpenAPI metadata and dependencies."""

from __future__ import annotations

import re

from gateway.edfi.definitions import registry


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
    # every resource of the Ed-Fi OpenAPI is served (issue 16)
    assert "/ed-fi/academicWeeks" in resources["paths"]
    served = {f"/ed-fi/{r.name}" for r in registry().resources.values() if not r.descriptor}
    assert served <= set(resources["paths"]) and len(served) == 128
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


def test_docs_offer_the_ed_fi_api_with_working_authorization(client, edfi):
    """/docs lists the Ed-Fi documents beside the gateway's; each declares OAuth2 client
    credentials at this server's token URL and its server URL, so Authorize then Try it out
    work; the gateway's document declares OAuth2, bearer and (for OneRoster) OAuth 1.0a."""
    page = client.get("/docs").get_data(as_text=True)
    urls = re.findall(r'"url": "([^"]+)"', page)
    assert urls == [
        "/openapi.json",
        "/metadata/data/v3/resources/swagger.json",
        "/metadata/data/v3/descriptors/swagger.json",
        "/metadata/changeQueries/v1/swagger.json",
    ]
    assert "StandaloneLayout" in page  # the definition selector
    for url in urls[1:]:
        doc = client.get(url).get_json()
        [scheme] = doc["components"]["securitySchemes"].values()
        assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "http://localhost/oauth/token"
        assert doc["security"]
        server = doc["servers"][0]["url"]
        # a path of the document, called the way Swagger UI calls it, answers
        path = next(
            p for p in doc["paths"] if "{" not in p and not p.endswith(("deletes", "Changes"))
        )
        called = server.removeprefix("http://localhost") + path
        assert edfi.client.get(called, headers=edfi.headers).status_code == 200, called
    assert client.get("/metadata/").get_json()[2]["name"] == "ChangeQueries"
    gateway = client.get("/openapi.json").get_json()
    schemes = gateway["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert "OAuth 1.0a" in schemes["oauth1"]["description"]
    assert {"oauth2": []} in gateway["security"]
    # routes that need no credentials say so
    assert gateway["paths"]["/oauth/token"]["post"]["security"] == []
