"""Courses (learning.courses): release dates and prerequisites gate exercises on the page, the API,
reply creation and upload start; a student's course path; duplicating a course for a new term;
the template library; a copy into another school with its recordings; constant query counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from learning import storage
from learning.courses import copies, gates, services, tasks
from learning.models import (
    Course,
    CourseCopy,
    CourseItem,
    CourseUnit,
    Exercise,
    MediaFile,
    Reply,
)
from learning.replies import services as reply_services
from tenants.models import Membership, Role
from tests.conftest import client_for, member
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory

# --- Helpers --------------------------------------------------------------------------------


def _course(school, *, items=2, assign_to_all=True, **item_fields) -> tuple[Course, list]:
    """A course with one unit of `items` published exercises (given the same item fields)."""
    with tenant_context(school.tenant):
        course = Course.objects.create(
            title="Violin year 1", created_by=school.teacher, assign_to_all=assign_to_all
        )
        unit = CourseUnit.objects.create(course=course, title="Unit 1", position=0)
        made = []
        for n in range(items):
            exercise = ExerciseFactory(
                created_by=school.teacher, assign_to_all=False, title=f"Step {n + 1}"
            )
            made.append(
                CourseItem.objects.create(unit=unit, exercise=exercise, position=n, **item_fields)
            )
        return course, made


def _api(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(
        url, data=json.dumps(body or {}), content_type="application/json"
    )


def _teach_in(user, tenant, role=Role.TEACHER) -> None:
    Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})


# --- Gating ---------------------------------------------------------------------------------


def test_a_future_release_date_locks_the_exercise_on_page_api_reply_and_upload(school_a):
    # Given an item of an assigned course that opens in three days
    opens = timezone.now() + timedelta(days=3)
    _, (item, _) = _course(school_a, release_at=opens)
    exercise_id = item.exercise.public_id
    student = client_for(school_a.student, school_a.host)

    # When the student opens it, on the page and through the API
    page = student.get(f"/exercises/{exercise_id}/")
    api = student.get(f"/api/v1/exercises/{exercise_id}/")

    # Then both refuse and say when it opens
    when = gates.opens_on(opens, now=timezone.now())
    assert page.status_code == 403
    assert f"This exercise opens on {when}." in page.content.decode()
    assert api.status_code == 403
    assert api.json() == {"code": "exercise_locked", "message": f"This exercise opens on {when}."}
    # And a reply's upload for it cannot start, nor can a reply be created
    upload = _api(
        student,
        "post",
        "/api/v1/uploads/",
        {"purpose": "reply", "filename": "take.mp4", "size": 1000, "exercise": str(exercise_id)},
    )
    assert upload.status_code == 403
    assert upload.json()["code"] == "exercise_locked"
    with tenant_context(school_a.tenant):
        media = MediaFileFactory(owner=school_a.student)
        with pytest.raises(gates.ExerciseLocked):
            reply_services.reply_create(
                member=member(school_a.student, school_a.tenant),
                exercise=Exercise.objects.get(public_id=exercise_id),
                media=media,
            )
    replied = _api(
        student,
        "post",
        "/api/v1/replies/",
        {"exercise": str(exercise_id), "media": str(media.public_id)},
    )
    assert replied.status_code == 403
    assert replied.json()["code"] == "exercise_locked"
    with tenant_context(school_a.tenant):
        assert not Reply.objects.filter(exercise__public_id=exercise_id).exists()
    # And the teacher is never gated
    teacher = client_for(school_a.teacher, school_a.host)
    assert teacher.get(f"/api/v1/exercises/{exercise_id}/").status_code == 200


def test_a_past_release_date_opens_the_exercise(school_a):
    _, (item, _) = _course(school_a, release_at=timezone.now() - timedelta(minutes=1))
    student = client_for(school_a.student, school_a.host)
    assert student.get(f"/exercises/{item.exercise.public_id}/").status_code == 200
    assert student.get(f"/api/v1/exercises/{item.exercise.public_id}/").status_code == 200
    upload = _api(
        student,
        "post",
        "/api/v1/uploads/",
        {
            "purpose": "reply",
            "filename": "t.mp4",
            "size": 1000,
            "exercise": str(item.exercise.public_id),
        },
    )
    assert upload.status_code == 201, upload.content


def test_a_prerequisite_opens_the_next_exercise_once_a_reply_is_sent(school_a):
    # Given step 2 waits for a reply to step 1
    _, (first, second) = _course(school_a)
    with tenant_context(school_a.tenant):
        second.prerequisite = first
        second.save(update_fields=["prerequisite"])
    student = client_for(school_a.student, school_a.host)
    url = f"/api/v1/exercises/{second.exercise.public_id}/"

    # Then it is locked, and says after what
    response = student.get(url)
    assert response.status_code == 403
    assert response.json()["message"] == "This exercise opens after you send a reply to “Step 1”."
    page = student.get(f"/exercises/{second.exercise.public_id}/").content.decode()
    assert "opens after you send a reply to “Step 1”" in page
    # And the student's list of exercises marks it
    listing = student.get("/exercises/").content.decode()
    assert "Locked · after “Step 1”" in listing

    # And a draft (a failed recording) does not count
    with tenant_context(school_a.tenant):
        failed = MediaFileFactory(owner=school_a.student, state=MediaFile.State.FAILED)
        ReplyFactory(exercise=first.exercise, student=school_a.student, media=failed, attempt=1)
    assert student.get(url).status_code == 403

    # When the student sends a reply to step 1, step 2 opens
    with tenant_context(school_a.tenant):
        ReplyFactory(exercise=first.exercise, student=school_a.student, attempt=2)
    assert student.get(url).status_code == 200
    # For that student only
    other = client_for(school_a.other_student, school_a.host)
    assert other.get(url).status_code == 403


def test_a_prerequisite_that_asks_for_a_review(school_a):
    _, (first, second) = _course(school_a)
    with tenant_context(school_a.tenant):
        second.prerequisite, second.requires = first, CourseItem.Requires.REVIEW
        second.save(update_fields=["prerequisite", "requires"])
        reply = ReplyFactory(exercise=first.exercise, student=school_a.student, attempt=1)
    student = client_for(school_a.student, school_a.host)
    url = f"/api/v1/exercises/{second.exercise.public_id}/"
    response = student.get(url)
    assert response.status_code == 403
    assert "once your reply to “Step 1” has been reviewed" in response.json()["message"]
    with tenant_context(school_a.tenant):
        Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.REVIEWED)
    assert student.get(url).status_code == 200


def test_the_course_path_shows_done_open_and_locked_with_the_reason(school_a):
    # Given three steps: the first replied to, the third waiting for the second, and a fourth
    # that opens on 3 March next year
    _, items = _course(school_a, items=4)
    march = timezone.now().replace(
        year=timezone.now().year + 1, month=3, day=3, hour=0, minute=0, second=0, microsecond=0
    )
    with tenant_context(school_a.tenant):
        items[2].prerequisite = items[1]
        items[2].save(update_fields=["prerequisite"])
        items[3].release_at = march
        items[3].save(update_fields=["release_at"])
        ReplyFactory(exercise=items[0].exercise, student=school_a.student, attempt=1)
    course = items[0].unit.course
    student = client_for(school_a.student, school_a.host)

    # When the student opens the course path
    html = student.get(f"/courses/{course.public_id}/").content.decode()

    # Then each step shows its state
    assert html.count('data-state="done"') == 1
    assert html.count('data-state="open"') == 1
    assert html.count('data-state="locked"') == 2
    assert "Locked: after “Step 2”" in html
    assert f"Locked: opens on 3 March {march.year}" in html
    assert "1 of 4 done" in html
    # And the API says the same
    body = student.get(f"/api/v1/courses/{course.public_id}/").json()
    states = [i["state"] for i in body["units"][0]["items"]]
    assert states == ["done", "open", "locked", "locked"]
    assert body["units"][0]["items"][3]["lock"]["reason"] == "not_released"
    # And the list of courses and the layout link to it
    listing = student.get("/courses/").content.decode()
    assert "Violin year 1" in listing and "1 of 4 done" in listing
    assert 'href="/courses/"' in student.get("/").content.decode()


def test_a_course_assigned_to_nobody_is_not_found_for_students(school_a, school_b):
    course, (item, _) = _course(school_a, assign_to_all=False)
    student = client_for(school_a.student, school_a.host)
    assert student.get(f"/courses/{course.public_id}/").status_code == 404
    assert student.get(f"/api/v1/courses/{course.public_id}/").status_code == 404
    assert student.get(f"/exercises/{item.exercise.public_id}/").status_code == 404
    # And another school's teacher does not find it either
    outsider = client_for(school_b.teacher, school_b.host)
    assert outsider.get(f"/api/v1/courses/{course.public_id}/").status_code == 404


def test_a_course_assigned_to_a_class_gives_its_students_the_exercises(school_a):
    from learning.models import Classroom

    course, (item, _) = _course(school_a, assign_to_all=False)
    with tenant_context(school_a.tenant):
        classroom = Classroom.objects.create(name="Tuesday", created_by=school_a.teacher)
        classroom.students.add(school_a.student)
    teacher = client_for(school_a.teacher, school_a.host)
    response = _api(
        teacher,
        "put",
        f"/api/v1/courses/{course.public_id}/assignment/",
        {"assign_to_all": False, "classes": [str(classroom.public_id)]},
    )
    assert response.status_code == 200, response.content
    student = client_for(school_a.student, school_a.host)
    assert student.get(f"/api/v1/exercises/{item.exercise.public_id}/").status_code == 200
    other = client_for(school_a.other_student, school_a.host)
    assert other.get(f"/api/v1/exercises/{item.exercise.public_id}/").status_code == 404


# --- Building, duplicating and templates -----------------------------------------------------


def test_a_teacher_builds_a_course_through_the_api(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    with tenant_context(school_a.tenant):
        first = ExerciseFactory(created_by=school_a.teacher)
        second = ExerciseFactory(created_by=school_a.teacher)
    course = _api(teacher, "post", "/api/v1/courses/", {"title": "Cello 2"}).json()
    unit = _api(teacher, "post", f"/api/v1/courses/{course['public_id']}/units/", {"title": "A"})
    unit_id = unit.json()["public_id"]
    items_url = f"/api/v1/courses/{course['public_id']}/items/"
    one = _api(teacher, "post", items_url, {"unit": unit_id, "exercise": str(first.public_id)})
    assert one.status_code == 201, one.content
    two = _api(
        teacher,
        "post",
        items_url,
        {
            "unit": unit_id,
            "exercise": str(second.public_id),
            "prerequisite": one.json()["public_id"],
            "release_at": "2030-03-03T09:00:00Z",
        },
    )
    assert two.status_code == 201, two.content
    assert two.json()["prerequisite"] == one.json()["public_id"]
    # An exercise sits in one course only
    again = _api(teacher, "post", items_url, {"unit": unit_id, "exercise": str(first.public_id)})
    assert again.status_code == 400
    assert again.json()["code"] == "exercise_in_course"
    # A prerequisite cycle is refused
    cycle = _api(
        teacher,
        "put",
        f"{items_url}{one.json()['public_id']}/",
        {"prerequisite": two.json()["public_id"]},
    )
    assert cycle.status_code == 400
    assert cycle.json()["code"] == "prerequisite_cycle"
    # Students may not build
    student = client_for(school_a.student, school_a.host)
    refused = _api(student, "post", "/api/v1/courses/", {"title": "Mine"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "teachers_only"


def test_duplicating_a_course_copies_its_structure_and_not_the_replies(school_a):
    # Given a course with a prerequisite, a release date, and students' replies
    opens = timezone.now() + timedelta(days=10)
    course, (first, second) = _course(school_a, release_at=opens)
    with tenant_context(school_a.tenant):
        second.prerequisite, second.requires = first, CourseItem.Requires.REVIEW
        second.save(update_fields=["prerequisite", "requires"])
        CourseUnit.objects.create(course=course, title="Unit 2", position=1)
        ReplyFactory(exercise=first.exercise, student=school_a.student, attempt=1)
        replies_before = Reply.objects.count()

    # When the teacher duplicates it for a new term, 182 days later
    teacher = client_for(school_a.teacher, school_a.host)
    response = _api(
        teacher,
        "post",
        f"/api/v1/courses/{course.public_id}/duplicate/",
        {"title": "Violin year 1 (autumn)", "shift_days": 182},
    )
    assert response.status_code == 201, response.content
    body = response.json()

    # Then the copy has the same units and items, in order, with new exercises and dates shifted
    with tenant_context(school_a.tenant):
        copy = Course.objects.get(public_id=body["public_id"])
        assert copy.title == "Violin year 1 (autumn)"
        assert [u.title for u in copy.units.order_by("position")] == ["Unit 1", "Unit 2"]
        new_items = list(
            CourseItem.objects.filter(unit__course=copy)
            .select_related("exercise", "prerequisite")
            .order_by("position")
        )
        assert [i.exercise.title for i in new_items] == ["Step 1", "Step 2"]
        assert {i.exercise_id for i in new_items}.isdisjoint(
            {first.exercise_id, second.exercise_id}
        )
        assert all(i.release_at == opens + timedelta(days=182) for i in new_items)
        assert new_items[1].prerequisite == new_items[0]
        assert new_items[1].requires == CourseItem.Requires.REVIEW
        # And it shares the recordings, not the replies; it is assigned to nobody
        assert new_items[0].exercise.demo_id == first.exercise.demo_id
        assert not Reply.objects.filter(exercise__course_item__unit__course=copy).exists()
        assert Reply.objects.count() == replies_before
        assert not copy.assign_to_all
        assert not copy.assigned_classes.exists() and not copy.assigned_students.exists()
        # And the source is as it was
        assert CourseItem.objects.filter(unit__course=course).count() == 2
    student = client_for(school_a.student, school_a.host)
    assert student.get(f"/courses/{copy.public_id}/").status_code == 404
    assert student.get(f"/api/v1/exercises/{new_items[0].exercise.public_id}/").status_code == 404


def test_deleting_a_duplicated_exercise_keeps_the_shared_recording(school_a, in_tenant):
    course, (item, _) = _course(school_a)
    with in_tenant(school_a.tenant):
        teacher = member(school_a.teacher, school_a.tenant)
        copy = services.course_duplicate(member=teacher, course=course)
        copied = Exercise.objects.get(course_item__unit__course=copy, title="Step 1")
        from learning.exercises import services as exercise_services

        exercise_services.exercise_delete(member=teacher, exercise=copied)
        assert MediaFile.objects.filter(pk=item.exercise.demo_id).exists()


def test_templates_are_shared_with_teachers_hidden_from_students_and_used_by_copying(school_a):
    # Given a course made a template, and an exercise template
    course, (item, _) = _course(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    made = _api(
        teacher, "put", f"/api/v1/courses/{course.public_id}/template/", {"is_template": True}
    )
    assert made.status_code == 200, made.content
    with tenant_context(school_a.tenant):
        lone = ExerciseFactory(created_by=school_a.teacher, title="Long tones")
    _api(teacher, "put", f"/api/v1/exercises/{lone.public_id}/template/", {"is_template": True})

    # Then students see neither the course nor its exercises
    student = client_for(school_a.student, school_a.host)
    assert student.get(f"/courses/{course.public_id}/").status_code == 404
    assert student.get(f"/api/v1/exercises/{item.exercise.public_id}/").status_code == 404
    assert student.get(f"/api/v1/exercises/{lone.public_id}/").status_code == 404
    assert "Long tones" not in student.get("/exercises/").content.decode()
    # And every teacher of the school finds them in the library
    with tenant_context(school_a.tenant):
        _teach_in(school_a.other_student, school_a.tenant)  # unchanged: still a student
    library = teacher.get("/api/v1/courses/?templates=true").json()
    assert [c["title"] for c in library["results"]] == ["Violin year 1"]
    templates = teacher.get("/api/v1/exercise-templates/").json()
    assert [e["title"] for e in templates["results"]] == ["Long tones"]
    page = teacher.get("/teach/courses/").content.decode()
    assert "Violin year 1" in page and "Long tones" in page
    # A template cannot be assigned
    refused = _api(
        teacher, "put", f"/api/v1/courses/{course.public_id}/assignment/", {"assign_to_all": True}
    )
    assert refused.status_code == 400

    # When a teacher uses them
    used = _api(teacher, "post", f"/api/v1/courses/{course.public_id}/use/", {})
    draft = _api(teacher, "post", f"/api/v1/exercises/{lone.public_id}/use/")

    # Then they get a new course (not a template, assigned to nobody) and a new draft
    assert used.status_code == 201 and draft.status_code == 201
    assert used.json()["is_template"] is False and used.json()["item_count"] == 2
    assert draft.json()["status"] == "draft" and draft.json()["title"] == "Long tones"


# --- Copying to another school ---------------------------------------------------------------


def _stored_demo(school, *, title="Bach") -> Exercise:
    """An exercise whose ready demonstration has a source, a rendition and a poster stored."""
    with tenant_context(school.tenant):
        exercise = ExerciseFactory(created_by=school.teacher, title=title)
        demo = exercise.demo
        folder = demo.source_key.rsplit("/", 1)[0]
        demo.renditions = {"720p": f"{folder}/720p.mp4"}
        demo.poster_key = f"{folder}/poster.jpg"
        demo.save(update_fields=["renditions", "poster_key"])
        for key, data in [
            (demo.source_key, b"source bytes"),
            (f"{folder}/720p.mp4", b"rendition bytes"),
            (f"{folder}/poster.jpg", b"poster bytes"),
        ]:
            with storage.open_write(key=key, content_type="application/octet-stream") as out:
                out.write(data)
        return exercise


def _read(key: str, tenant) -> bytes:
    with tenant_context(tenant), storage.open_read(key) as stream:
        return stream.read()


@pytest.mark.parametrize("via", ["course", "exercise"])
def test_a_copy_to_another_school_makes_new_media_under_its_prefix(
    school_a, school_b, real_storage, django_capture_on_commit_callbacks, monkeypatch, via
):
    # Given a teacher of school A who also teaches at school B, and an exercise with stored media
    _teach_in(school_a.teacher, school_b.tenant)
    exercise = _stored_demo(school_a)
    with tenant_context(school_a.tenant):
        course = Course.objects.create(title="Baroque", created_by=school_a.teacher)
        unit = CourseUnit.objects.create(course=course, title="Suites")
        CourseItem.objects.create(unit=unit, exercise=exercise)
        source = MediaFile.objects.get(pk=exercise.demo_id)
        source_keys = sorted(
            o.key for o in storage.list_objects(prefix=storage.media_prefix(source.public_id))
        )

    # When they ask for a copy in school B, and the task runs
    teacher = client_for(school_a.teacher, school_a.host)
    subject = course if via == "course" else exercise
    queued: list[int] = []
    monkeypatch.setattr(tasks.copy_to_tenant, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = _api(
            teacher,
            "post",
            "/api/v1/copies/",
            {"target_tenant": str(school_b.tenant.public_id), via: str(subject.public_id)},
        )
    assert response.status_code == 202, response.content
    with tenant_context(school_a.tenant):
        copy = CourseCopy.objects.get(public_id=response.json()["public_id"])
        assert queued == [copy.pk]  # queued after commit, by id
        assert tasks.copy_to_tenant.apply(args=[copy.pk]).get() == "done"
        copy.refresh_from_db()
        assert copy.media_copied == 1

    # Then school B has a new exercise with a new recording, its objects under B's prefix
    with tenant_context(school_b.tenant):
        copied = Exercise.objects.select_related("demo").get(
            title="Bach", created_by=school_a.teacher
        )
        media = copied.demo
        assert media.public_id != source.public_id
        prefix = f"tenants/{school_b.tenant.public_id}/media/{media.public_id}/"
        assert media.source_key == f"{prefix}source"
        assert media.renditions == {"720p": f"{prefix}720p.mp4"}
        assert media.poster_key == f"{prefix}poster.jpg"
        assert media.state == MediaFile.State.READY and media.owner_id == school_a.teacher.pk
        new_keys = sorted(o.key for o in storage.list_objects(prefix=prefix))
        assert new_keys == [f"{prefix}720p.mp4", f"{prefix}poster.jpg", f"{prefix}source"]
        if via == "course":
            new_course = Course.objects.get(public_id=copy.result_public_id)
            assert CourseItem.objects.get(unit__course=new_course).exercise == copied
            assert not new_course.assign_to_all
        else:
            assert copied.public_id == copy.result_public_id
            assert copied.status == Exercise.Status.DRAFT
    assert _read(media.renditions["720p"], school_b.tenant) == b"rendition bytes"
    # And the source is untouched
    with tenant_context(school_a.tenant):
        source.refresh_from_db()
        assert source.source_key.startswith(f"tenants/{school_a.tenant.public_id}/")
        keys_after = sorted(
            o.key for o in storage.list_objects(prefix=storage.media_prefix(source.public_id))
        )
        assert keys_after == source_keys
    assert _read(source.source_key, school_a.tenant) == b"source bytes"
    # And running the task again copies nothing twice (idempotent)
    with tenant_context(school_a.tenant):
        assert copies.copy_run(copy_id=copy.pk).state == CourseCopy.State.DONE
    with tenant_context(school_b.tenant):
        assert Exercise.objects.filter(title="Bach").count() == 1


def test_a_copy_needs_a_teaching_role_in_both_schools(school_a, school_b):
    exercise = _stored_demo(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    body = {"target_tenant": str(school_b.tenant.public_id), "exercise": str(exercise.public_id)}

    # Not a member of school B: not found
    response = _api(teacher, "post", "/api/v1/copies/", body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

    # A student there: refused, with the reason
    _teach_in(school_a.teacher, school_b.tenant, role=Role.STUDENT)
    response = _api(teacher, "post", "/api/v1/copies/", body)
    assert response.status_code == 403
    assert response.json()["code"] == "teachers_only"

    # Someone else's exercise: refused
    _teach_in(school_a.owner, school_b.tenant)
    owner = client_for(school_a.owner, school_a.host)
    response = _api(owner, "post", "/api/v1/copies/", body)
    assert response.status_code == 403
    assert response.json()["code"] == "not_yours"

    # A student of school A cannot ask at all; a bad body is a 400
    student = client_for(school_a.student, school_a.host)
    assert _api(student, "post", "/api/v1/copies/", body).status_code == 403
    assert _api(teacher, "post", "/api/v1/copies/", {"target_tenant": "nope"}).status_code == 400
    with tenant_context(school_a.tenant):
        assert not CourseCopy.objects.exists()


# --- Pages ----------------------------------------------------------------------------------


def test_the_teacher_pages_build_assign_duplicate_and_template_a_course(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher, title="Open strings")
    created = teacher.post("/teach/courses/", {"action": "create", "title": "Strings 1"})
    assert created.status_code == 302
    url = created["Location"]
    teacher.post(url, {"action": "add_unit", "title": "Week 1"})
    with tenant_context(school_a.tenant):
        unit = CourseUnit.objects.get(course__title="Strings 1")
    added = teacher.post(
        url,
        {
            "action": "add_item",
            "unit": str(unit.public_id),
            "exercise": str(exercise.public_id),
            "release_at": "2031-03-03T00:00",
        },
    )
    assert added.status_code == 302
    html = teacher.get(url).content.decode()
    assert "Open strings" in html and "opens 3 Mar 2031" in html
    teacher.post(url, {"action": "assign", "assign": "all"})
    student = client_for(school_a.student, school_a.host)
    path = student.get(f"/courses/{unit.course.public_id}/").content.decode()
    assert "Locked: opens on 3 March 2031" in path
    duplicated = teacher.post(url, {"action": "duplicate", "title": "", "shift_days": "365"})
    assert duplicated.status_code == 302 and duplicated["Location"] != url
    bad = teacher.post(url, {"action": "duplicate", "shift_days": "many"}, follow=True)
    assert "whole number of days" in bad.content.decode()
    assert 'href="/teach/courses/"' in teacher.get("/").content.decode()
    deleted = teacher.post(url, {"action": "delete"})
    assert deleted.status_code == 302 and deleted["Location"] == "/teach/courses/"
    assert teacher.get(url).status_code == 404


# --- Query counts ----------------------------------------------------------------------------


def _fill_courses(school, n: int) -> None:
    with tenant_context(school.tenant):
        for _ in range(n):
            course = Course.objects.create(
                title="Course", created_by=school.teacher, assign_to_all=True
            )
            unit = CourseUnit.objects.create(course=course, title="U")
            exercise = ExerciseFactory(created_by=school.teacher, assign_to_all=False)
            CourseItem.objects.create(unit=unit, exercise=exercise)


def _fill_items(school, course: Course, n: int) -> None:
    with tenant_context(school.tenant):
        unit = CourseUnit.objects.create(course=course, title=f"Unit {n}")
        previous = CourseItem.objects.filter(unit__course=course).last()
        for _ in range(n):
            exercise = ExerciseFactory(created_by=school.teacher, assign_to_all=False)
            previous = CourseItem.objects.create(
                unit=unit,
                exercise=exercise,
                prerequisite=previous,
                release_at=timezone.now() + timedelta(days=len(exercise.title) % 3 - 1),
            )
            ReplyFactory(exercise=exercise, student=school.student, attempt=1)


def _queries(client, url: str) -> tuple[int, str]:
    from django.db import connection

    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(context.captured_queries), response.content.decode()


@pytest.mark.parametrize(
    ("who", "url", "marker"),
    [
        ("teacher", "/teach/courses/", "1 exercise"),
        ("student", "/courses/", "of 1 done"),
        ("student", "/api/v1/courses/", '"title":"Course"'),
        ("teacher", "/api/v1/courses/", '"title":"Course"'),
    ],
)
def test_course_lists_run_a_constant_number_of_queries(school_a, who, url, marker):
    client = client_for(getattr(school_a, who), school_a.host)
    _fill_courses(school_a, 3)
    few, _ = _queries(client, url)
    _fill_courses(school_a, 52)
    many, body = _queries(client, url)
    assert body.count(marker) == 50 if "/api/" in url else body.count(marker) == 55
    assert many == few


def test_the_course_path_runs_a_constant_number_of_queries(school_a):
    course, _ = _course(school_a, items=0)
    student = client_for(school_a.student, school_a.host)
    url = f"/courses/{course.public_id}/"
    _fill_items(school_a, course, 3)
    few, _ = _queries(student, url)
    _fill_items(school_a, course, 52)
    many, html = _queries(student, url)
    assert html.count("data-state=") == 55
    assert many == few
    api_few, _ = _queries(student, f"/api/v1/courses/{course.public_id}/")
    _fill_items(school_a, course, 5)
    api_many, _ = _queries(student, f"/api/v1/courses/{course.public_id}/")
    assert api_many == api_few


def test_the_pages_offer_a_copy_to_the_schools_where_the_teacher_teaches(
    school_a, school_b, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[int] = []
    monkeypatch.setattr(tasks.copy_to_tenant, "delay", queued.append)
    with tenant_context(school_a.tenant):
        mine = ExerciseFactory(created_by=school_a.teacher, title="Mine to copy")
        ExerciseFactory(created_by=school_a.owner, title="Owner's own")
    teacher = client_for(school_a.teacher, school_a.host)
    # No other school: no copy form
    assert "data-exercise-copy" not in teacher.get("/teach/courses/").content.decode()

    _teach_in(school_a.teacher, school_b.tenant)
    html = teacher.get("/teach/courses/").content.decode()
    form = html[html.index("data-exercise-copy") :]
    assert school_b.tenant.name in form and "Mine to copy" in form
    assert "Owner&#x27;s own" not in form and "Owner's own" not in form
    with django_capture_on_commit_callbacks(execute=True):
        response = teacher.post(
            "/teach/courses/",
            {"action": "exercise_copy", "exercise": str(mine.public_id),
             "target": str(school_b.tenant.public_id)},
            follow=True,
        )  # fmt: skip
    assert "is being copied" in response.content.decode()
    assert "data-copies" in response.content.decode()
    with tenant_context(school_a.tenant):
        assert queued == [CourseCopy.objects.get(exercise=mine).pk]


def test_deleting_a_course_keeps_its_exercises_and_replies(school_a):
    course, (item, _) = _course(school_a)
    with tenant_context(school_a.tenant):
        ReplyFactory(exercise=item.exercise, student=school_a.student, attempt=1)
    student = client_for(school_a.student, school_a.host)
    assert _api(student, "delete", f"/api/v1/courses/{course.public_id}/").status_code == 403
    teacher = client_for(school_a.teacher, school_a.host)
    assert _api(teacher, "delete", f"/api/v1/courses/{course.public_id}/").status_code == 204
    with tenant_context(school_a.tenant):
        assert not Course.objects.filter(pk=course.pk).exists()
        assert Exercise.objects.filter(pk=item.exercise_id).exists()
        assert Reply.objects.filter(exercise_id=item.exercise_id).count() == 1
