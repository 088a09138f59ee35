"""Every error the API answers with has the one shape, `{"code", "message"}`, including the
ones raised below the services: Django's Http404 and a path under /api/ that matches no
route (issue 10, finding 11: a client reads JSON there)."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from tests.conftest import client_for
from tests.support.factories import ReplyFactory


def test_an_unknown_api_path_answers_in_the_error_shape(school_a, public_host):
    for host in (school_a.host, public_host):
        response = client_for(school_a.teacher, host).get("/api/v1/no-such-route/")

        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"


def test_an_id_that_is_no_uuid_answers_in_the_error_shape(school_a):
    response = client_for(school_a.teacher, school_a.host).get("/api/v1/replies/not-a-uuid/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_page_is_still_a_page(school_a):
    response = client_for(school_a.teacher, school_a.host).get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_lookup_that_finds_nothing_answers_in_the_error_shape(school_a):
    # Given a reply of school A, and a comment id that does not exist
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(student=school_a.student, exercise__created_by=school_a.teacher)

    # When the teacher answers a comment that is not there (get_object_or_404)
    response = client_for(school_a.teacher, school_a.host).post(
        f"/api/v1/replies/{reply.public_id}/comments/",
        {"body": "Yes", "at_ms": 0, "parent": "00000000-0000-4000-8000-000000000001"},
        content_type="application/json",
    )

    # Then the 404 has the API's shape, not DRF's {"detail"}
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"}
    assert response.json()["code"] == "not_found"


def test_a_time_beyond_the_column_is_refused_not_a_server_error(school_a):
    with tenant_context(school_a.tenant):
        reply = ReplyFactory(student=school_a.student, exercise__created_by=school_a.teacher)

    response = client_for(school_a.teacher, school_a.host).post(
        f"/api/v1/replies/{reply.public_id}/comments/", {"body": "Yes", "at_ms": 2**40},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
