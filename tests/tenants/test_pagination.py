"""The API's lists that answer with a page are documented as pages (issue 10, finding 11): a
client generated from the schema must read `{"count", "next", "previous", "results"}` where
the server sends it, not an array."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

PAGED_LISTS = [
    "/api/v1/classes/",
    "/api/v1/exercises/",
    "/api/v1/inbox/",
    "/api/v1/invitations/",
    "/api/v1/members/",
    "/api/v1/replies/",
]


def _schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _ok_schema(schema: dict, path: str) -> dict:
    body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    body = body["schema"]
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body


@pytest.mark.parametrize("path", PAGED_LISTS)
def test_paged_list_is_documented_as_the_page_it_answers_with(school_a, path):
    # Given the owner of school A (who may read every list)
    client = client_for(school_a.owner, school_a.host)
    documented = _ok_schema(_schema(client), path)

    # When the owner reads the list, one item per page
    response = client.get(path, {"limit": 1})

    # Then the schema describes the page the server sends, and the paging parameters
    assert response.status_code == 200
    body = response.json()
    assert documented["type"] == "object"
    assert set(documented["properties"]) == set(body) == {"count", "next", "previous", "results"}
    assert documented["properties"]["results"]["type"] == "array"
    parameters = _schema(client)["paths"][path]["get"]["parameters"]
    assert {"limit", "offset"} <= {p["name"] for p in parameters if p["in"] == "query"}


def test_every_list_is_documented_with_the_shape_it_answers_with(school_a):
    # Given the schema school A's owner is served
    client = client_for(school_a.owner, school_a.host)
    schema = _schema(client)
    lists = [
        path for path, item in schema["paths"].items()
        if "get" in item and "{" not in path
        and "application/json" in item["get"]["responses"].get("200", {}).get("content", {})
    ]
    assert len(lists) >= len(PAGED_LISTS)

    # When each of its parameterless GET routes is read, then its shape is the documented one
    for path in lists:
        body = client.get(path).json()
        documented = _ok_schema(schema, path)
        assert documented["type"] == ("array" if isinstance(body, list) else "object"), path
