"""The cached lists of the teachers' inbox and exercise list (learning.page_parts) follow every
write of the rows they show on the very next request, never hold the request's tokens, and are
never shared between tenants."""

from __future__ import annotations

import ast
from pathlib import Path

from django.core.cache import cache
from django_tenants.utils import tenant_context

from learning import page_parts
from learning.exercises import services as exercise_services
from learning.models import Exercise, MediaFile, Reply
from learning.replies import services as reply_services
from tenants.models import User
from tests.conftest import client_for, member
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory

LEARNING = Path(__file__).resolve().parents[2] / "learning"


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def _warm(client, path: str) -> str:
    _html(client, path)
    return _html(client, path)  # from the cached part


def _reply(school, *, state=MediaFile.State.READY, **fields) -> Reply:
    with tenant_context(school.tenant):
        exercise = ExerciseFactory(created_by=school.teacher, title="Arpeggios in G")
        media = MediaFileFactory(owner=school.student, state=state)
        return ReplyFactory(exercise=exercise, student=school.student, media=media, **fields)


def test_a_new_reply_shows_in_the_inbox_on_the_very_next_request(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Arpeggios in G" not in _warm(teacher, "/teach/inbox/")

    _reply(school_a, note="Second try at the fingering")

    assert "Second try at the fingering" in _html(teacher, "/teach/inbox/")


def test_a_recording_becoming_ready_shows_on_the_very_next_request(school_a):
    reply = _reply(school_a, state=MediaFile.State.PROCESSING, note="Still processing")
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Still processing" not in _warm(teacher, "/teach/inbox/")

    with tenant_context(school_a.tenant):
        reply.media.state = MediaFile.State.READY  # as the worker does, with update_fields
        reply.media.save(update_fields=["state"])

    assert "Still processing" in _html(teacher, "/teach/inbox/")


def test_a_reviewed_reply_leaves_the_inbox_on_the_very_next_request(school_a):
    reply = _reply(school_a, note="Please check bar 12")
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Please check bar 12" in _warm(teacher, "/teach/inbox/")

    with tenant_context(school_a.tenant):
        reply_services.reply_review(
            member=member(school_a.teacher, school_a.tenant),
            reply=reply,
            status=Reply.Status.REVIEWED,
        )

    assert "Please check bar 12" not in _html(teacher, "/teach/inbox/")


def test_a_students_new_name_shows_in_the_inbox_on_the_very_next_request(school_a):
    _reply(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Clara Schumann" not in _warm(teacher, "/teach/inbox/")

    student = User.objects.get(pk=school_a.student.pk)
    student.full_name = "Clara Schumann"
    student.save(update_fields=["full_name"])

    assert "Clara Schumann" in _html(teacher, "/teach/inbox/")


def test_an_exercise_edit_and_a_deletion_show_on_the_very_next_request(school_a):
    reply = _reply(school_a, note="Cascaded away")
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Arpeggios in G" in _warm(teacher, "/teach/exercises/")
    assert "Cascaded away" in _warm(teacher, "/teach/inbox/")
    owner = member(school_a.teacher, school_a.tenant)

    with tenant_context(school_a.tenant):
        exercise = Exercise.objects.get(pk=reply.exercise_id)
        exercise_services.exercise_save(
            member=owner, title="Arpeggios in D", exercise=exercise, demo=exercise.demo
        )
    assert "Arpeggios in D" in _html(teacher, "/teach/exercises/")

    with tenant_context(school_a.tenant):
        exercise_services.exercise_delete(
            member=owner, exercise=Exercise.objects.get(pk=exercise.pk)
        )
    assert "Arpeggios in D" not in _html(teacher, "/teach/exercises/")
    # Its replies went with it (a cascade: no model's delete() ran for them).
    assert "Cascaded away" not in _html(teacher, "/teach/inbox/")


def test_the_cached_parts_hold_no_token_and_stay_in_their_tenant(school_a, school_b):
    _reply(school_a, note="Only school A sees this")
    a_teacher = client_for(school_a.teacher, school_a.host)
    b_teacher = client_for(school_b.teacher, school_b.host)
    page = _warm(a_teacher, "/teach/inbox/")
    assert "Only school A sees this" in page
    assert "csrfmiddlewaretoken" in page  # the page around the part has its forms

    with tenant_context(school_a.tenant):
        # Keyed by what the teacher may see (their own rule) and the inbox's filters (none).
        key = f"inbox:user-{school_a.teacher.pk}:-:-:1"
        part = cache.get(f"learning:page-parts:{key}:{page_parts.version()}")
    assert part is not None and "Only school A sees this" in part
    assert "csrfmiddlewaretoken" not in part and "nonce" not in part

    assert "Only school A sees this" not in _warm(b_teacher, "/teach/inbox/")


def test_an_odd_page_number_is_the_first_page(school_a):
    _reply(school_a, note="On the first page")
    teacher = client_for(school_a.teacher, school_a.host)
    assert "On the first page" in _html(teacher, "/teach/inbox/?page=../../x")
    assert "On the first page" in _html(teacher, "/teach/inbox/?page=1")


def _enclosing_functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


# Models whose rows no cached list shows: bulk writes to them need no bump. A model missing
# here is assumed shown, so a new one fails the test below until someone decides.
NOT_SHOWN = (
    "Export.",
    "JobLease.",
    "LtiContext.",
    "LtiRegistration.",
    "LtiIdentity.",
    "LtiGradeTarget.",
    "RosterImport.",
    "RosterPerson.",
    "RosterClass.",
    "SavedComment.",
)


def test_every_update_or_bulk_write_in_learning_bumps_the_version():
    """`QuerySet.update()`, `bulk_create()` and `bulk_update()` send no signal: a function that
    calls one on a queryset (`….objects…` or `….filter(…)`) must call `page_parts.bump()`,
    unless the queryset is of a model in NOT_SHOWN."""
    missing = []
    for path in sorted(LEARNING.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for function in _enclosing_functions(tree):
            writes, bumps = [], False
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                if node.func.attr == "bump":
                    bumps = True
                elif node.func.attr in ("update", "bulk_create", "bulk_update"):
                    source = ast.unparse(node.func.value)
                    if source.startswith(NOT_SHOWN):
                        continue
                    if ".objects" in source or ".filter(" in source or ".exclude(" in source:
                        writes.append(node.lineno)
            if writes and not bumps:
                missing.append(f"{path.relative_to(LEARNING.parent)}:{writes[0]}")
    assert not missing, missing
