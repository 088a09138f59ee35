"""Co-teachers: a class's several teachers see its replies and nobody else's (page, API and
media URL), a reply is assigned to a reviewer who can see it, the inbox filters by class and
assignee, several teachers comment on one reply under their own names, and the school's
admins see open work per teacher, all in a constant number of queries."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pytest
from django.apps import apps
from django_tenants.utils import tenant_context

from learning import page_parts
from learning.coteachers import selectors as coteacher_selectors
from learning.coteachers import services as coteacher_services
from learning.errors import DomainError
from learning.models import Classroom, Exercise, MediaFile, Reply
from learning.replies import selectors as reply_selectors
from tenants.models import AuditEvent, Membership, Role, User
from tests.conftest import PASSWORD, client_for, member
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory
from tests.support.sql_count import count_statements


def _teacher(school, name: str) -> User:
    user = User.objects.create_user(
        email=f"{name}@{school.tenant.slug}.example.com",
        password=PASSWORD,
        full_name=name.replace("-", " ").title(),
    )
    Membership.objects.create(user=user, tenant=school.tenant, role=Role.TEACHER)
    return user


@dataclass
class Staffroom:
    school: object
    strings_teacher: User  # school.teacher: teaches "Strings", where the student is
    winds_teacher: User  # teaches "Winds" (the other student's class) only
    strings: Classroom
    winds: Classroom
    exercise: Exercise  # the owner's, assigned to Strings
    reply: Reply  # the student's attempt at it, waiting


@pytest.fixture
def staffroom(school_a) -> Staffroom:
    school = school_a
    winds_teacher = _teacher(school, "winona-winds")
    with tenant_context(school.tenant):
        strings = Classroom.objects.create(name="Strings", created_by=school.teacher)
        strings.teachers.set([school.teacher])
        strings.students.set([school.student])
        winds = Classroom.objects.create(name="Winds", created_by=winds_teacher)
        winds.teachers.set([winds_teacher])
        winds.students.set([school.other_student])
        exercise = ExerciseFactory(
            created_by=school.owner, title="Owner's etude", assign_to_all=False
        )
        exercise.assigned_classes.set([strings])
        reply = ReplyFactory(exercise=exercise, student=school.student, note="Strings take")
    return Staffroom(school, school.teacher, winds_teacher, strings, winds, exercise, reply)


def _paths(reply: Reply) -> dict[str, str]:
    rid = reply.public_id
    return {
        "page": f"/replies/{rid}/",
        "api": f"/api/v1/replies/{rid}/",
        "comments": f"/api/v1/replies/{rid}/comments/",
        "media": f"/api/v1/media/{reply.media.public_id}/",
    }


# --- Who sees a reply ------------------------------------------------------------------------


def test_a_teacher_of_another_class_gets_404_on_page_api_and_media_until_the_class_is_shared(
    staffroom,
):
    s = staffroom
    paths = _paths(s.reply)
    outsider = client_for(s.winds_teacher, s.school.host)
    for name, path in paths.items():
        assert outsider.get(path).status_code == 404, name
    assert (
        outsider.post(
            paths["comments"], {"body": "Hi", "at_ms": 0}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        outsider.post(f"/replies/{s.reply.public_id}/review/", {"status": "reviewed"}).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/api/v1/replies/{s.reply.public_id}/review/",
            {"status": "reviewed"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/api/v1/replies/{s.reply.public_id}/assign/",
            {"assignee": None},
            content_type="application/json",
        ).status_code
        == 404
    )
    listed = outsider.get("/api/v1/replies/").json()["results"]
    assert str(s.reply.public_id) not in [r["public_id"] for r in listed]
    assert "Strings take" not in outsider.get("/teach/inbox/").content.decode()
    with tenant_context(s.school.tenant):
        assert Reply.objects.get(pk=s.reply.pk).status == Reply.Status.SUBMITTED

    # Their colleague, the owner (who sees every reply) and the student all see it.
    for user in (s.strings_teacher, s.school.owner, s.school.student):
        client = client_for(user, s.school.host)
        for name, path in paths.items():
            assert client.get(path).status_code == 200, (user.email, name)

    with tenant_context(s.school.tenant):
        s.strings.teachers.add(s.winds_teacher)  # the class is shared with them
    for name, path in paths.items():
        assert outsider.get(path).status_code == 200, name
    assert "Strings take" in outsider.get("/teach/inbox/").content.decode()


def test_each_clause_of_the_rule_shows_the_reply_and_nothing_else_does(staffroom):
    s = staffroom
    with tenant_context(s.school.tenant):
        winds = member(s.winds_teacher, s.school.tenant)

        def sees() -> bool:
            return reply_selectors.visible_replies(member=winds).filter(pk=s.reply.pk).exists()

        assert not sees()
        s.winds.students.add(s.school.student)  # they teach a class the student is in
        assert sees()
        s.winds.students.remove(s.school.student)
        s.exercise.assigned_classes.add(s.winds)  # they teach a class the exercise is for
        assert sees()
        s.exercise.assigned_classes.remove(s.winds)
        Reply.objects.filter(pk=s.reply.pk).update(assigned_to=s.winds_teacher)
        assert sees()  # it is assigned to them
        Reply.objects.filter(pk=s.reply.pk).update(assigned_to=None)
        Exercise.objects.filter(pk=s.exercise.pk).update(created_by=s.winds_teacher)
        assert sees()  # they created the exercise (a studio's one teacher)
        Exercise.objects.filter(pk=s.exercise.pk).update(created_by=s.school.owner)
        assert not sees()


def test_the_inbox_part_is_cached_per_viewer(staffroom):
    s = staffroom
    colleague = client_for(s.strings_teacher, s.school.host)
    outsider = client_for(s.winds_teacher, s.school.host)
    assert "Strings take" in colleague.get("/teach/inbox/").content.decode()
    assert "Strings take" in colleague.get("/teach/inbox/").content.decode()  # the cached part
    assert "Strings take" not in outsider.get("/teach/inbox/").content.decode()


# --- Assigning a reply -------------------------------------------------------------------------


def test_a_reply_is_assigned_to_a_reviewer_who_can_see_it_and_audited(staffroom):
    s = staffroom
    owner = client_for(s.school.owner, s.school.host)
    assign = f"/api/v1/replies/{s.reply.public_id}/assign/"

    refused = owner.post(
        assign, {"assignee": str(s.winds_teacher.public_id)}, content_type="application/json"
    )
    assert refused.status_code == 404 and refused.json()["code"] == "assignee_invalid"
    bad = owner.post(assign, {"assignee": "nobody"}, content_type="application/json")
    assert bad.status_code == 400

    done = owner.post(
        assign, {"assignee": str(s.strings_teacher.public_id)}, content_type="application/json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["assigned_to"]["public_id"] == str(s.strings_teacher.public_id)

    # The compare page shows the control, with who it is assigned to; its form unassigns.
    colleague = client_for(s.strings_teacher, s.school.host)
    page = colleague.get(f"/replies/{s.reply.public_id}/").content.decode()
    assert 'id="assign-reviewer"' in page and "data-assigned-to" in page
    assert str(s.winds_teacher.public_id) not in page  # not offered: they cannot see it
    colleague.post(f"/replies/{s.reply.public_id}/assign/", {"assignee": ""})
    with tenant_context(s.school.tenant):
        assert Reply.objects.get(pk=s.reply.pk).assigned_to_id is None
    student = client_for(s.school.student, s.school.host)
    assert (
        'id="assign-reviewer"' not in student.get(f"/replies/{s.reply.public_id}/").content.decode()
    )
    assert (
        student.post(assign, {"assignee": None}, content_type="application/json").status_code == 403
    )

    actions = list(
        AuditEvent.objects.filter(
            tenant=s.school.tenant, action__startswith="reply.", data__reply=str(s.reply.public_id)
        )
        .order_by("created_at")
        .values_list("action", "data__assignee")
    )
    assert actions == [("reply.assigned", s.strings_teacher.email), ("reply.unassigned", None)]


def test_assignment_and_class_filter_the_inbox_page_and_apis(staffroom):
    s = staffroom
    with tenant_context(s.school.tenant):
        own = ExerciseFactory(created_by=s.strings_teacher, title="Teacher's own")
        other = ReplyFactory(exercise=own, student=s.school.other_student, note="Unassigned take")
        coteacher_services.reply_assign(
            member=member(s.school.owner, s.school.tenant),
            reply=s.reply,
            assignee=s.strings_teacher,
        )
    teacher = client_for(s.strings_teacher, s.school.host)
    owner = client_for(s.school.owner, s.school.host)
    mine, theirs = "Strings take", "Unassigned take"

    def inbox(client, query: str) -> str:
        response = client.get(f"/teach/inbox/?{query}")
        assert response.status_code == 200, query
        return response.content.decode()

    def api(client, path: str) -> set[str]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content)
        return {r["note"] for r in response.json()["results"]}

    both = inbox(teacher, "")
    assert mine in both and theirs in both
    assert mine in inbox(teacher, "assignee=me") and theirs not in inbox(teacher, "assignee=me")
    page = inbox(teacher, "assignee=unassigned")
    assert theirs in page and mine not in page
    page = inbox(owner, f"assignee={s.strings_teacher.public_id}")
    assert mine in page and theirs not in page
    page = inbox(teacher, f"class={s.strings.public_id}")
    assert mine in page and theirs not in page
    page = inbox(teacher, f"class={s.winds.public_id}")  # the other student is in Winds
    assert theirs in page and mine not in page
    assert teacher.get("/teach/inbox/?class=nope").status_code == 404
    assert (
        teacher.get("/teach/inbox/?assignee=00000000-0000-0000-0000-000000000000").status_code
        == 404
    )

    assert api(teacher, "/api/v1/inbox/?assignee=me") == {mine}
    assert api(teacher, "/api/v1/inbox/?assignee=unassigned") == {theirs}
    assert api(teacher, f"/api/v1/replies/?class={s.strings.public_id}") == {mine}
    assert api(owner, f"/api/v1/replies/?assignee={s.strings_teacher.public_id}") == {mine}
    assert teacher.get("/api/v1/replies/?class=nope").status_code == 400
    missing = teacher.get("/api/v1/inbox/?class=00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 400
    assert missing.json()["fields"] == {"class": ["That class does not exist."]}
    nobody = teacher.get(f"/api/v1/replies/?assignee={s.school.student.public_id}")
    assert nobody.status_code == 400 and "assignee" in nobody.json()["fields"]
    assert other.pk  # kept for the reader: the second reply is the teacher's own exercise's


# --- Several teachers on one reply -----------------------------------------------------------


def test_two_teachers_comment_on_one_reply_and_each_comment_shows_its_author(staffroom):
    s = staffroom
    with tenant_context(s.school.tenant):
        s.strings.teachers.add(s.winds_teacher)
    comments = f"/api/v1/replies/{s.reply.public_id}/comments/"
    for user, body in (
        (s.strings_teacher, "Bow nearer the bridge"),
        (s.winds_teacher, "Breathe before the phrase"),
    ):
        posted = client_for(user, s.school.host).post(
            comments, {"body": body, "at_ms": 1200}, content_type="application/json"
        )
        assert posted.status_code == 201, posted.content
        assert posted.json()["author"]["display_name"] == user.display_name

    for user in (s.school.student, s.strings_teacher):
        listed = client_for(user, s.school.host).get(comments).json()
        assert {(c["author"]["display_name"], c["body"]) for c in listed} == {
            (s.strings_teacher.display_name, "Bow nearer the bridge"),
            ("Winona Winds", "Breathe before the phrase"),
        }
    # A co-teacher cannot edit a colleague's comment.
    first = next(c for c in listed if c["body"] == "Bow nearer the bridge")
    edit = client_for(s.winds_teacher, s.school.host).patch(
        f"/api/v1/comments/{first['public_id']}/",
        {"body": "Mine now"},
        content_type="application/json",
    )
    assert edit.status_code == 403


# --- Classes and their teachers --------------------------------------------------------------


def test_the_class_page_sets_its_teachers_only_for_its_teachers_and_admins_and_audits(staffroom):
    s = staffroom
    page = f"/teach/classes/{s.strings.public_id}/"
    form = {
        "name": "Strings",
        "students": [str(s.school.student.public_id)],
        "teachers_shown": "1",
        "teachers": [str(s.strings_teacher.public_id), str(s.winds_teacher.public_id)],
    }
    outsider = client_for(s.winds_teacher, s.school.host)
    assert "teachers_shown" not in outsider.get(page).content.decode()
    outsider.post(page, form)  # not theirs: the teachers stay
    with tenant_context(s.school.tenant):
        assert set(s.strings.teachers.all()) == {s.strings_teacher}

    colleague = client_for(s.strings_teacher, s.school.host)
    assert colleague.post(page, form).status_code == 302
    with tenant_context(s.school.tenant):
        assert set(s.strings.teachers.all()) == {s.strings_teacher, s.winds_teacher}
    event = AuditEvent.objects.get(tenant=s.school.tenant, action="classroom.teachers_changed")
    assert event.data["added"] == [s.winds_teacher.email] and event.data["removed"] == []

    emptied = colleague.post(page, {**form, "teachers": []})
    assert "A class needs at least one teacher." in emptied.content.decode()
    with tenant_context(s.school.tenant):
        assert s.strings.teachers.count() == 2
        with pytest.raises(DomainError):  # a student is no teacher
            coteacher_services.classroom_teachers_set(
                member=member(s.school.owner, s.school.tenant),
                classroom=s.strings,
                teacher_ids=[s.school.student.pk],
            )


def test_a_new_class_is_taught_by_its_creator_and_the_migration_does_the_same(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    assert teacher.post("/teach/classes/new/", {"name": "Cellos"}).status_code == 302
    migration = importlib.import_module("learning.migrations.0013_coteachers")
    with tenant_context(school_a.tenant):
        assert list(Classroom.objects.get(name="Cellos").teachers.all()) == [school_a.teacher]
        old = Classroom.objects.create(name="Before co-teachers", created_by=school_a.owner)
        migration.creators_teach_their_classes(apps, None)
        assert list(old.teachers.all()) == [school_a.owner]


# --- Open work per teacher -------------------------------------------------------------------


def test_open_work_shows_each_teachers_waiting_and_assigned_replies_to_admins_only(staffroom):
    s = staffroom
    with tenant_context(s.school.tenant):
        coteacher_services.reply_assign(
            member=member(s.school.owner, s.school.tenant),
            reply=s.reply,
            assignee=s.strings_teacher,
        )
        rows = {m.user_id: m for m in coteacher_selectors.open_work(tenant=s.school.tenant)}
    assert (rows[s.strings_teacher.pk].waiting, rows[s.strings_teacher.pk].assigned) == (1, 1)
    assert (rows[s.winds_teacher.pk].waiting, rows[s.winds_teacher.pk].oldest_at) == (0, None)
    assert rows[s.school.owner.pk].waiting == 1  # owners and admins see every reply
    assert rows[s.strings_teacher.pk].oldest_at == s.reply.created_at

    assert client_for(s.strings_teacher, s.school.host).get("/manage/open-work/").status_code == 403
    page = client_for(s.school.owner, s.school.host).get("/manage/open-work/")
    assert page.status_code == 200 and "Winona Winds" in page.content.decode()


# --- Query counts: 3 rows and 55 cost the same ---------------------------------------------


def _replies(school, teacher: User, classroom: Classroom, n: int) -> None:
    with tenant_context(school.tenant):
        exercise = ExerciseFactory(created_by=school.owner, assign_to_all=False)
        exercise.assigned_classes.set([classroom])
        media = MediaFile.objects.bulk_create(
            [MediaFileFactory.build(owner=school.student) for _ in range(n)]
        )
        Reply.objects.bulk_create(
            [
                Reply(
                    exercise=exercise,
                    student=school.student,
                    attempt=i + 1,
                    media=m,
                    assigned_to=teacher,
                )
                for i, m in enumerate(media)
            ]
        )
        page_parts.bump()


def _teachers(school, classroom: Classroom, n: int) -> None:
    start = Membership.objects.filter(tenant=school.tenant).count()
    users = User.objects.bulk_create(
        [User(email=f"t{start + i}@{school.tenant.slug}.example.com") for i in range(n)]
    )
    Membership.objects.bulk_create(
        [Membership(user=u, tenant=school.tenant, role=Role.TEACHER) for u in users]
    )
    with tenant_context(school.tenant):
        classroom.teachers.add(*users)


def test_inbox_open_work_and_replies_api_cost_the_same_queries_for_3_or_55_rows(staffroom):
    s = staffroom
    teacher = client_for(s.strings_teacher, s.school.host)
    owner = client_for(s.school.owner, s.school.host)
    views = [
        (teacher, f"/teach/inbox/?class={s.strings.public_id}&assignee=me"),
        (teacher, f"/api/v1/inbox/?class={s.strings.public_id}&assignee=me"),
        (teacher, f"/api/v1/replies/?class={s.strings.public_id}&assignee=me"),
        (owner, "/manage/open-work/"),
    ]

    def cost() -> list[int]:
        counts = []
        for client, path in views:
            client.get(path)  # warm the page chrome and the session
            with tenant_context(s.school.tenant):
                page_parts.bump()  # the inbox's cached part is rendered again
            with count_statements() as statements:
                response = client.get(path)
            assert response.status_code == 200, path
            counts.append(len(statements))
        return counts

    _replies(s.school, s.strings_teacher, s.strings, 3)
    _teachers(s.school, s.strings, 3)
    few = cost()
    _replies(s.school, s.strings_teacher, s.strings, 52)
    _teachers(s.school, s.strings, 52)
    many = cost()
    assert many == few, (few, many)
    listed = teacher.get(f"/api/v1/inbox/?class={s.strings.public_id}&assignee=me").json()
    assert listed["count"] == 55
    html = owner.get("/manage/open-work/").content.decode()
    assert html.count("<tr>") >= 55 + 3
