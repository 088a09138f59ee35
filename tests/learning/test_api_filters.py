"""The list filters of the core-loop API are documented and validated: a value that is not an
id, a status or text answers 400 in the API's error shape, not a server error (issue 10,
finding 11: they were undocumented, so the fuzzer never sent them)."""

from __future__ import annotations

import pytest

from tests.conftest import client_for


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/replies/", {"exercise": "not-a-uuid"}),
        ("/api/v1/replies/", {"status": "lost"}),
        ("/api/v1/exercises/", {"status": "lost"}),
        ("/api/v1/exercises/", {"tag": "a\x00b"}),
        ("/api/v1/exercises/", {"instrument": "a\x00b"}),
    ],
)
def test_a_bad_filter_is_refused_in_the_error_shape(school_a, path, query):
    response = client_for(school_a.teacher, school_a.host).get(path, query)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(query) <= set(response.json()["fields"])


def test_the_filters_are_in_the_schema(school_a):
    schema = client_for(school_a.teacher, school_a.host).get(
        "/api/schema/", {"format": "json"}
    ).json()

    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    assert {"exercise", "status"} <= names("/api/v1/replies/")
    assert {"status", "instrument", "tag"} <= names("/api/v1/exercises/")
