"""Dashboards: exact figures for a school seeded with known activity, and a constant number of
SQL queries whatever the number of students and replies."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import selectors, services
from analytics.models import Milestone
from learning.models import Exercise, MediaFile, Reply
from tests.conftest import client_for, member
from tests.support import scale
from tests.support.factories import MediaFileFactory


def _seed_known_activity(loop):
    """Two exercises, four replies, two reviews: the figures below follow from this."""
    school = loop.school
    everyone = loop.publish(school.teacher, title="Everyone's scales")
    mine = loop.publish(
        school.teacher, title="Solo study", assign_to_all=False,
        student_ids=[school.student.pk], due_at=timezone.now() + timedelta(days=2),
    )
    first = loop.reply(school.student, everyone)
    loop.review(school.teacher, first, status="try_again")
    loop.reply(school.student, everyone)
    loop.reply(school.other_student, everyone)
    solo = loop.reply(school.student, mine)
    loop.review(school.teacher, solo, status="reviewed")
    loop.comment(school.teacher, solo, body="Lovely tone at the top.")
    # Known waiting times: 2 h and 4 h from reply to review (median 3 h).
    now = timezone.now()
    Reply.objects.filter(pk=first.pk).update(
        created_at=now - timedelta(hours=5), reviewed_at=now - timedelta(hours=3)
    )
    Reply.objects.filter(pk=solo.pk).update(
        created_at=now - timedelta(hours=6), reviewed_at=now - timedelta(hours=2)
    )
    return everyone, mine


def test_teacher_dashboard_figures(loop):
    school = loop.school
    everyone, _mine = _seed_known_activity(loop)

    # The teacher created both exercises: they see every reply (co-teachers' rule).
    dash = selectors.teacher_dashboard(member=member(school.teacher, school.tenant))

    assert dash.awaiting_total == 2
    assert [(r.student_id, r.exercise_id, r.attempt) for r in dash.awaiting] == [
        (school.student.pk, everyone.pk, 2), (school.other_student.pk, everyone.pk, 1),
    ]
    assert dash.median_feedback == timedelta(hours=3)
    # One exercise reviewed (the other attempt was asked to try again), as the table says
    assert dash.reviewed_last_30_days == 1
    rows = {row.user_id: row for row in dash.students}
    assert dash.reviewed_last_30_days == sum(row.reviewed for row in dash.students)
    student, other = rows[school.student.pk], rows[school.other_student.pk]
    assert (student.assigned, student.submitted, student.reviewed, student.streak) == (2, 2, 1, 1)
    assert (other.assigned, other.submitted, other.reviewed, other.streak) == (1, 1, 0, 1)
    assert dash.weeks[-1].attempts == 4 and dash.weeks[-1].active_students == 2
    assert dash.weeks[-1].feedback == 2 and dash.weeks[-1].comments == 1
    assert [step.done for step in selectors.onboarding_checklist()] == [True, True, True]
    assert services.onboarding_checklist_for(member=member(school.teacher, school.tenant)) == []
    ordered, sort = selectors.sort_students(dash.students, "-submitted")
    assert sort == "-submitted" and ordered[0].user_id == school.student.pk


def test_student_dashboard_figures(loop):
    school = loop.school
    everyone, mine = _seed_known_activity(loop)
    services.practice_record(member=member(school.student, school.tenant), seconds=90,
                             mode="playing")

    dash = selectors.student_dashboard(user=school.student)

    assert [(r.exercise.pk, r.status) for r in dash.rows] == [
        (mine.pk, "reviewed"), (everyone.pk, "submitted"),
    ]
    assert [(f.kind, f.exercise_title) for f in dash.feedback] == [
        ("comment", "Solo study"), ("review", "Solo study"), ("review", "Everyone's scales"),
    ]
    assert dash.streak == 1
    assert dash.attempts_total == 3
    assert dash.next_step.text == "Read your feedback on “Solo study”"

    other = selectors.student_dashboard(user=school.other_student)
    assert [r.exercise.pk for r in other.rows] == [everyone.pk]
    assert other.next_step is None and other.feedback == []


def test_school_dashboard_figures(loop):
    school = loop.school
    _seed_known_activity(loop)

    dash = selectors.admin_dashboard()

    assert (dash.active_teachers, dash.active_students) == (1, 2)
    assert dash.this_week.uploads == 6  # two exercises published, four replies
    assert dash.this_week.comments == 1
    assert dash.students == 2
    assert dash.plan_name

    # Storage: known sizes on every stored file, an upload in progress counts what it
    # promised, a failed upload counts nothing.
    stored = list(MediaFile.objects.order_by("pk"))
    assert len(stored) == 6  # two demonstrations, four replies
    for index, media in enumerate(stored, start=1):
        MediaFile.objects.filter(pk=media.pk).update(size_bytes=index * 1_000)
    MediaFileFactory(owner=school.student, state=MediaFile.State.AWAITING_UPLOAD,
                     declared_bytes=50_000, size_bytes=0)
    MediaFileFactory(owner=school.student, state=MediaFile.State.FAILED,
                     declared_bytes=900_000, size_bytes=900_000)
    assert selectors.admin_dashboard().storage_used == 21_000 + 50_000


def test_pages_render_for_each_role(loop):
    school = loop.school
    _seed_known_activity(loop)
    student = client_for(school.student, school.host).get("/dashboard/")
    assert student.status_code == 200
    assert "Read your feedback on" in student.content.decode()
    teacher = client_for(school.teacher, school.host).get("/dashboard/?sort=-streak")
    assert teacher.status_code == 200
    assert 'data-awaiting-total>2<' in teacher.content.decode()
    owner = client_for(school.owner, school.host).get("/dashboard/school/")
    assert owner.status_code == 200
    assert client_for(school.teacher, school.host).get("/dashboard/school/").status_code == 403


def test_a_new_studio_gets_one_sample_exercise_once(in_a):
    actor = member(in_a.teacher, in_a.tenant)
    sample = services.sample_exercise_ensure(member=actor)
    assert sample is not None and sample.tags == ["sample"]
    sample.delete()
    assert services.sample_exercise_ensure(member=actor) is None
    assert not Exercise.objects.exists()
    assert Milestone.objects.filter(key=services.SAMPLE_MILESTONE).exists()
    # The checklist does not count the sample as "your first exercise".
    assert selectors.onboarding_checklist()[0].done is False


def test_the_dashboard_offers_the_sample_exercise_and_only_its_post_adds_it(in_a):
    teacher = client_for(in_a.teacher, in_a.host)
    student = client_for(in_a.student, in_a.host)

    page = teacher.get("/dashboard/")
    assert page.status_code == 200 and "data-sample-exercise" in page.content.decode()
    assert not Exercise.objects.exists()  # the GET only offered it
    assert student.post("/dashboard/sample-exercise/").status_code == 403
    assert not Exercise.objects.exists()

    added = teacher.post("/dashboard/sample-exercise/")
    again = teacher.post("/dashboard/sample-exercise/")

    sample = Exercise.objects.get()
    assert sample.tags == ["sample"]
    assert added["Location"] == f"/teach/exercises/{sample.public_id}/"
    assert again["Location"] == "/dashboard/"
    after = teacher.get("/dashboard/")
    assert after.status_code == 200 and "data-sample-exercise" not in after.content.decode()


def test_a_student_with_one_exercise_lands_on_it(loop):
    school = loop.school
    only = loop.publish(school.teacher, title="Only one")
    response = client_for(school.student, school.host).get("/start/")
    assert response["Location"] == f"/exercises/{only.public_id}/"
    loop.reply(school.student, only)
    assert client_for(school.student, school.host).get("/start/")["Location"] == "/dashboard/"
    assert client_for(school.teacher, school.host).get("/start/")["Location"] == "/dashboard/"


def _queries(client, path: str) -> list[str]:
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_dashboards_run_a_constant_number_of_queries_at_scale(loop):
    school = loop.school
    _seed_known_activity(loop)
    teacher = client_for(school.teacher, school.host)
    student = client_for(school.student, school.host)
    owner = client_for(school.owner, school.host)
    # First visits write once (the sample-exercise check, the member's last-active time).
    for client in (teacher, student, owner):
        client.get("/dashboard/")
    small = [_queries(c, p) for c, p in
             [(teacher, "/dashboard/"), (student, "/dashboard/"), (owner, "/dashboard/school/")]]

    scale.seed(tenant=school.tenant, teacher=school.teacher, students=1000, replies=10000)
    assert Reply.objects.count() >= 10000

    large = [_queries(c, p) for c, p in
             [(teacher, "/dashboard/"), (student, "/dashboard/"), (owner, "/dashboard/school/")]]
    assert [len(q) for q in large] == [len(q) for q in small]
    assert max(len(q) for q in large) <= 40
    # And the figures are computed over all of them.
    dash = selectors.teacher_dashboard(member=member(school.owner, school.tenant))
    assert len(dash.students) == 1002
    assert dash.awaiting_total == Reply.objects.filter(status="submitted").count()
