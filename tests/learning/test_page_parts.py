"""The cached lists of the teachers' inbox and exercise list (learning.page_parts) follow every
write of the rows they show on the very next request, never hold the request's tokens, and are
never shared between tenants."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import tenant_context

from learning import page_parts
from learning.exercises import services as exercise_services
from learning.models import (
    Alignment,
    Classroom,
    Course,
    CourseItem,
    CourseUnit,
    Exercise,
    MediaFile,
    Reply,
    Rubric,
    RubricCriterion,
)
from learning.replies import services as reply_services
from tenants.models import Membership, Role, User
from tests.conftest import client_for, member
from tests.support.factories import (
    CommentFactory,
    ExerciseFactory,
    MediaFileFactory,
    ReplyFactory,
)

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


# --- The cached reads of the compare page and the student's exercise page (page_parts.value) ---


def test_a_new_alignment_shows_on_the_compare_page_on_the_very_next_request(school_a):
    reply = _reply(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    path = f"/replies/{reply.public_id}/"
    assert 'data-status="failed"' not in _warm(teacher, path)

    with tenant_context(school_a.tenant):
        Alignment.objects.create(reply=reply, status="failed", reason="Storage ran out mid-way.")
    html = _html(teacher, path)
    assert 'data-status="failed"' in html and "Storage ran out mid-way." in html

    with tenant_context(school_a.tenant):
        Alignment.objects.filter(reply=reply).delete()  # a rerun starts from no row
    assert "Storage ran out mid-way." not in _html(teacher, path)


def test_a_new_reviewer_and_an_assignment_show_on_the_compare_page_on_the_very_next_request(
    school_a,
):
    reply = _reply(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    path = f"/replies/{reply.public_id}/"
    newcomer = User.objects.create(email="fanny@school-a.example.com", full_name="Fanny Hensel")
    assert "Fanny Hensel" not in _warm(teacher, path)

    # An admin sees every reply: a new one can be assigned it at once (a Membership, public).
    Membership.objects.create(user=newcomer, tenant=school_a.tenant, role=Role.ADMIN)
    assert "Fanny Hensel" in _html(teacher, path)

    with tenant_context(school_a.tenant):
        Reply.objects.filter(pk=reply.pk).update(assigned_to=newcomer)  # no signal: bump()
        page_parts.bump()
    assert "Assigned to <strong data-assigned-to>Fanny Hensel</strong>" in _html(teacher, path)

    Membership.objects.filter(user=newcomer, tenant=school_a.tenant).delete()
    with tenant_context(school_a.tenant):
        Reply.objects.filter(pk=reply.pk).update(assigned_to=None)
        page_parts.bump()
    assert "Fanny Hensel" not in _html(teacher, path)


def test_a_comment_and_a_new_attempt_show_on_the_students_pages_on_the_very_next_request(
    school_a,
):
    reply = _reply(school_a)
    student = client_for(school_a.student, school_a.host)
    exercise_path = f"/exercises/{reply.exercise.public_id}/"
    assert "0 comments" in _warm(student, exercise_path)

    with tenant_context(school_a.tenant):
        CommentFactory(reply=reply, author=school_a.teacher, body="Lighter bow")
    assert "1 comment<" in _html(student, exercise_path)

    compare_path = f"/replies/{reply.public_id}/"
    _warm(student, compare_path)
    with tenant_context(school_a.tenant):
        second = ReplyFactory(
            exercise=reply.exercise,
            student=school_a.student,
            attempt=reply.attempt + 1,
            media=MediaFileFactory(owner=school_a.student),
        )
    assert f'<option value="{second.public_id}"' in _html(student, compare_path)
    assert f"Attempt {second.attempt}" in _html(student, exercise_path)


def test_a_rubric_edit_shows_on_the_students_exercise_page_on_the_very_next_request(school_a):
    reply = _reply(school_a)
    student = client_for(school_a.student, school_a.host)
    path = f"/exercises/{reply.exercise.public_id}/"
    assert "Intonation across the shifts" not in _warm(student, path)

    with tenant_context(school_a.tenant):
        rubric = Rubric.objects.create(title="Etude rubric", exercise=reply.exercise)
        RubricCriterion.objects.create(
            rubric=rubric, position=0, title="Intonation across the shifts"
        )
    assert "Intonation across the shifts" in _html(student, path)

    with tenant_context(school_a.tenant):
        RubricCriterion.objects.filter(rubric=rubric).update(title="Tone")
        page_parts.bump()
    html = _html(student, path)
    assert "Intonation across the shifts" not in html and "Tone" in html


def test_a_course_release_date_and_an_assignment_apply_on_the_very_next_request(school_a):
    reply = _reply(school_a)
    exercise = reply.exercise
    student = client_for(school_a.student, school_a.host)
    path = f"/exercises/{exercise.public_id}/"
    _warm(student, path)

    with tenant_context(school_a.tenant):
        course = Course.objects.create(title="Year one", created_by=school_a.teacher)
        unit = CourseUnit.objects.create(course=course, title="Autumn", position=0)
        CourseItem.objects.create(
            unit=unit, exercise=exercise, release_at=timezone.now() + timedelta(days=3)
        )
    assert student.get(path).status_code == 403  # locked until its release date

    with tenant_context(school_a.tenant):
        CourseItem.objects.filter(exercise=exercise).delete()
        Exercise.objects.filter(pk=exercise.pk).update(assign_to_all=False)
        page_parts.bump()
        exercise.refresh_from_db()
    assert student.get(path).status_code == 404  # assigned to nobody

    with tenant_context(school_a.tenant):
        exercise.assigned_students.add(school_a.student)  # m2m_changed
    assert student.get(path).status_code == 200


def test_a_new_class_and_a_teachers_new_name_show_in_the_inbox_filters_on_the_next_request(
    school_a,
):
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Chamber winds" not in _warm(teacher, "/teach/inbox/")

    with tenant_context(school_a.tenant):
        Classroom.objects.create(name="Chamber winds", created_by=school_a.teacher)
    assert "Chamber winds" in _html(teacher, "/teach/inbox/")

    owner = User.objects.get(pk=school_a.owner.pk)
    owner.full_name = "Nadia Boulanger"
    owner.save(update_fields=["full_name"])
    assert "Nadia Boulanger" in _html(teacher, "/teach/inbox/")


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
# Fields no cached part or read shows: an update() of these alone needs no bump.
NOT_SHOWN_FIELDS = frozenset({"student_seen_at"})
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
    unless the queryset is of a model in NOT_SHOWN or the update writes NOT_SHOWN_FIELDS only."""
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
                    fields = {keyword.arg for keyword in node.keywords}
                    if node.func.attr == "update" and fields and fields <= NOT_SHOWN_FIELDS:
                        continue
                    if ".objects" in source or ".filter(" in source or ".exclude(" in source:
                        writes.append(node.lineno)
            if writes and not bumps:
                missing.append(f"{path.relative_to(LEARNING.parent)}:{writes[0]}")
    assert not missing, missing
