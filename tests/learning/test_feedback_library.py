"""The feedback library (issue 18): a teacher's saved comments and the school's shared ones,
through the API and the page. Teachers only (students 403, never listed on the compare page);
another teacher's private ones and other schools' are 404; owners and admins manage the shared
ones; the use count grows, on the server, with each comment made from a saved one; the page
and the list API run a constant number of queries at 3 and 55 rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from learning.feedback_library import services
from learning.models import MediaFile, SavedComment
from tenants.models import Membership, Role
from tests.conftest import client_for
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory

API = "/api/v1/feedback-library/"
PAGE = "/teach/feedback-library/"


@pytest.fixture
def library(school_a):
    """The teacher's own saved comment, a shared one by the owner and the owner's private one."""
    with tenant_context(school_a.tenant):
        SavedComment.objects.all().delete()
        yield {
            "mine": SavedComment.objects.create(
                owner=school_a.teacher, body="Keep the bow straight"
            ),
            "shared": SavedComment.objects.create(
                owner=school_a.owner, body="Relax the left thumb", shared=True
            ),
            "private": SavedComment.objects.create(owner=school_a.owner, body="Owner's own note"),
        }


def _ids(response) -> set[str]:
    return {s["public_id"] for s in response.json()["results"]}


def test_a_teacher_sees_their_own_and_the_shared_ones_and_searches_them(school_a, library):
    teacher = client_for(school_a.teacher, school_a.host)
    listed = teacher.get(API)
    assert listed.status_code == 200
    assert _ids(listed) == {str(library["mine"].public_id), str(library["shared"].public_id)}
    assert _ids(teacher.get(API, {"q": "THUMB left"})) == {str(library["shared"].public_id)}
    assert _ids(teacher.get(API, {"scope": "mine"})) == {str(library["mine"].public_id)}
    assert teacher.get(API, {"scope": "nobody"}).status_code == 400
    assert teacher.get(API, {"q": "bow\x00"}).status_code == 400
    # Another teacher's private one does not exist for them.
    private = f"{API}{library['private'].public_id}/"
    assert teacher.get(private).status_code == 404
    assert teacher.patch(private, {"body": "x"}, content_type="application/json").status_code == 404
    assert teacher.delete(private).status_code == 404
    assert teacher.get(PAGE, {"q": "bow\x00"}).status_code == 200
    page = teacher.get(PAGE, {"q": "bow"}).content.decode()
    assert "Keep the bow straight" in page and "Relax the left thumb" not in page


def test_a_teacher_adds_edits_shares_and_deletes_their_own(school_a, library):
    teacher = client_for(school_a.teacher, school_a.host)
    created = teacher.post(
        API, {"body": "  Breathe before the phrase "}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    saved = created.json()
    assert saved["body"] == "Breathe before the phrase"
    assert saved["shared"] is False and saved["use_count"] == 0 and saved["can_manage"] is True
    url = f"{API}{saved['public_id']}/"
    shared = teacher.patch(url, {"shared": True}, content_type="application/json")
    assert shared.json()["shared"] is True
    other = client_for(school_a.owner, school_a.host)
    assert saved["public_id"] in _ids(other.get(API))
    blank = teacher.patch(url, {"body": "   "}, content_type="application/json")
    assert blank.status_code == 400 and blank.json()["code"] == "body_required"
    assert teacher.delete(url).status_code == 204
    assert teacher.get(url).status_code == 404


def test_only_owners_and_admins_manage_the_shared_ones_of_others(school_a, library):
    teacher = client_for(school_a.teacher, school_a.host)
    shared = f"{API}{library['shared'].public_id}/"
    assert teacher.get(shared).json()["can_manage"] is False
    refused = teacher.patch(shared, {"body": "mine now"}, content_type="application/json")
    assert refused.status_code == 403
    assert teacher.delete(shared).status_code == 403
    # The teacher shares one: the school's owner may unshare or delete it.
    with tenant_context(school_a.tenant):
        library["mine"].shared = True
        library["mine"].save()
    owner = client_for(school_a.owner, school_a.host)
    mine = f"{API}{library['mine'].public_id}/"
    assert owner.get(mine).json()["can_manage"] is True
    assert owner.patch(mine, {"shared": False}, content_type="application/json").status_code == 200
    assert owner.get(mine).status_code == 404  # now the teacher's private one again
    assert teacher.get(mine).json()["shared"] is False


def test_students_never_see_the_library(school_a, library):
    student = client_for(school_a.student, school_a.host)
    assert student.get(API).status_code == 403
    assert student.post(API, {"body": "x"}, content_type="application/json").status_code == 403
    assert student.get(f"{API}{library['shared'].public_id}/").status_code == 403
    assert student.get(PAGE).status_code == 403
    edit = f"{PAGE}{library['shared'].public_id}/"
    assert student.get(edit).status_code == 403


def test_other_schools_see_nothing_of_it(school_a, school_b, library):
    outsider = client_for(school_b.teacher, school_b.host)
    shared = library["shared"].public_id
    assert outsider.get(f"{API}{shared}/").status_code == 404
    assert str(shared) not in _ids(outsider.get(API))
    assert outsider.get(f"{PAGE}{shared}/").status_code == 404
    assert outsider.post(f"{PAGE}{shared}/delete/").status_code == 404
    # And a teacher of school A on school B's host is not a member there.
    assert client_for(school_a.teacher, school_b.host).get(API).status_code in (403, 404)


def test_a_comment_made_from_saved_ones_counts_their_use_on_the_server(school_a, library):
    with tenant_context(school_a.tenant):
        demo = MediaFileFactory(owner=school_a.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        exercise = ExerciseFactory(created_by=school_a.teacher, demo=demo)
        reply = ReplyFactory(exercise=exercise, student=school_a.student, attempt=1)
    teacher = client_for(school_a.teacher, school_a.host)
    ids = [str(library[k].public_id) for k in ("mine", "shared", "private")]
    for _ in range(2):
        posted = teacher.post(
            f"/api/v1/replies/{reply.public_id}/comments/",
            {
                "body": "Keep the bow straight. Relax the left thumb",
                "at_ms": 1500,
                "saved_comments": ids,
            },
            content_type="application/json",
        )
        assert posted.status_code == 201, posted.content
    with tenant_context(school_a.tenant):
        counts = {k: SavedComment.objects.get(pk=v.pk).use_count for k, v in library.items()}
    # Another teacher's private saved comment is not theirs to use: its count stays.
    assert counts == {"mine": 2, "shared": 2, "private": 0}
    # A student's comment counts nothing, and a malformed id is a 400.
    student = client_for(school_a.student, school_a.host)
    url = f"/api/v1/replies/{reply.public_id}/comments/"
    body = {"body": "A question", "at_ms": 100, "saved_comments": ids}
    assert student.post(url, body, content_type="application/json").status_code == 201
    bad = {**body, "saved_comments": ["not-an-id"]}
    assert teacher.post(url, bad, content_type="application/json").status_code == 400
    with tenant_context(school_a.tenant):
        assert SavedComment.objects.get(pk=library["mine"].pk).use_count == 2


def test_the_page_adds_edits_and_deletes(school_a, library):
    teacher = client_for(school_a.teacher, school_a.host)
    added = teacher.post(PAGE, {"body": "Count the rests", "shared": "on"})
    assert added.status_code == 302
    with tenant_context(school_a.tenant):
        saved = SavedComment.objects.get(body="Count the rests")
    assert saved.shared and saved.owner_id == school_a.teacher.pk
    edit = f"{PAGE}{saved.public_id}/"
    assert teacher.get(edit).status_code == 200
    assert teacher.post(edit, {"body": "Count every rest"}).status_code == 302
    with tenant_context(school_a.tenant):
        saved.refresh_from_db()
    assert saved.body == "Count every rest" and not saved.shared
    # Another's shared one: no edit for a teacher.
    assert teacher.post(f"{PAGE}{library['shared'].public_id}/", {"body": "x"}).status_code == 302
    with tenant_context(school_a.tenant):
        assert SavedComment.objects.get(pk=library["shared"].pk).body == "Relax the left thumb"
    assert teacher.post(f"{edit}delete/").status_code == 302
    with tenant_context(school_a.tenant):
        assert not SavedComment.objects.filter(pk=saved.pk).exists()


def test_a_departing_members_private_ones_go_and_shared_ones_stay(school_a, library):
    with tenant_context(school_a.tenant):
        membership = Membership.objects.get(user=school_a.owner, tenant=school_a.tenant)
        assert membership.role == Role.OWNER
        services.saved_comments_purge(user_id=school_a.owner.pk)
        assert not SavedComment.objects.filter(pk=library["private"].pk).exists()
        kept = SavedComment.objects.get(pk=library["shared"].pk)
        assert kept.owner is None and kept.shared
    teacher = client_for(school_a.teacher, school_a.host)
    listed = {s["public_id"]: s for s in teacher.get(API).json()["results"]}
    assert listed[str(kept.public_id)]["owner"]["display_name"] == "Former member"


def _fill(school, rows: int) -> None:
    with tenant_context(school.tenant):
        for n in range(rows):
            SavedComment.objects.create(owner=school.teacher, body=f"Saved note {n}")
            SavedComment.objects.create(owner=school.owner, body=f"Shared note {n}", shared=True)


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("url", [PAGE, f"{API}?limit=200"])
def test_the_library_page_and_list_api_run_a_constant_number_of_queries(school_a, url):
    with tenant_context(school_a.tenant):
        SavedComment.objects.all().delete()
    teacher = client_for(school_a.teacher, school_a.host)
    _fill(school_a, 3)
    teacher.get(url)  # the first visit fills the member's cached page chrome
    few = _queries(teacher, url)
    _fill(school_a, 52)
    many = _queries(teacher, url)
    shown = teacher.get(url).content.decode()
    if url == PAGE:  # 50 a page, of 110
        assert shown.count('data-saved="') == 50 and "Page 1 of 3" in shown
    else:
        assert shown.count("Shared note") == 55
    assert many == few
