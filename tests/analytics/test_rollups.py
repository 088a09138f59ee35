"""Rollups from the activity outbox: the incremental path and the rebuild agree."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from analytics import rollups, services
from analytics.models import MemberProgress, WeeklyRollup
from learning import activity
from learning.models import ActivityEvent
from tests.conftest import member


def test_events_of_the_core_loop_land_in_the_outbox(loop):
    school = loop.school
    exercise = loop.publish(school.teacher)
    reply = loop.reply(school.student, exercise)
    loop.review(school.teacher, reply)
    loop.comment(school.teacher, reply)

    kinds = list(ActivityEvent.objects.values_list("kind", flat=True))
    assert kinds == ["exercise_published", "reply_submitted", "feedback_given", "comment_created"]
    event = ActivityEvent.objects.get(kind="feedback_given")
    assert event.actor_id == school.teacher.pk
    assert event.data == {
        "reply": str(reply.public_id), "student_id": school.student.pk, "status": "reviewed",
        "role": "teacher",
    }


def test_incremental_rollups_count_each_event(loop):
    school = loop.school
    exercise = loop.publish(school.teacher)
    first = loop.reply(school.student, exercise)
    loop.reply(school.student, exercise)
    loop.reply(school.other_student, exercise)
    loop.review(school.teacher, first, status="try_again")
    loop.comment(school.teacher, first)
    loop.comment(school.student, first, body="Like this?")

    week = rollups.week_start(timezone.now().date())
    tenant = WeeklyRollup.objects.get(user=None, week=week)
    assert (tenant.attempts, tenant.exercises_published, tenant.uploads) == (3, 1, 4)
    assert (tenant.feedback_given, tenant.feedback_received, tenant.comments) == (1, 1, 2)
    assert (tenant.active_students, tenant.active_teachers) == (2, 1)
    student = WeeklyRollup.objects.get(user=school.student, week=week)
    assert (student.attempts, student.feedback_received, student.comments) == (2, 1, 1)
    assert MemberProgress.objects.get(user=school.student).streak_days == 1


def _emit_at(school, user, kind, when, **data):
    return activity.emit(kind=kind, member=member(user, school.tenant), occurred_at=when, **data)


def test_rebuilding_from_events_gives_the_incremental_figures(
    in_a, django_capture_on_commit_callbacks
):
    school = in_a
    now = timezone.now()
    # Events over three weeks, some arriving out of order (a late practice beacon).
    plan = [
        (school.student, "practice", now - timedelta(days=2), {"seconds": 300}),
        (school.student, "practice", now - timedelta(days=1), {"seconds": 120}),
        (school.student, "practice", now, {"seconds": 60}),
        (school.student, "practice", now - timedelta(days=9), {"seconds": 45}),
        (school.other_student, "reply_submitted", now - timedelta(days=15), {}),
        (school.other_student, "compare_viewed", now - timedelta(days=8), {}),
        (school.teacher, "feedback_given", now - timedelta(days=8),
         {"student_id": school.other_student.pk}),
        (school.teacher, "comment_created", now - timedelta(days=1), {}),
        (school.student, "practice", now - timedelta(days=3), {"seconds": 30}),
    ]
    for user, kind, when, data in plan:
        with django_capture_on_commit_callbacks(execute=True):
            _emit_at(school, user, kind, when, **data)
    incremental = rollups.snapshot()

    assert rollups.rebuild() == len(plan)

    assert rollups.snapshot() == incremental
    progress = MemberProgress.objects.get(user=school.student)
    assert (progress.last_practice_on, progress.streak_days) == (now.date(), 4)
    assert sum(row[3] for row in incremental["days"] if row[0] == school.student.pk) == 555


def test_streak_counts_consecutive_days_and_lapses():
    today = date(2025, 3, 12)
    assert rollups.streak_ending([today, today - timedelta(days=1), today - timedelta(days=3)]) == (
        today, 2
    )
    progress = MemberProgress(last_practice_on=today - timedelta(days=2), streak_days=5)
    assert rollups.current_streak(progress, today) == 0
    progress.last_practice_on = today - timedelta(days=1)
    assert rollups.current_streak(progress, today) == 5


def test_the_periodic_rebuild_runs_inside_every_tenant(schools, db, monkeypatch):
    from analytics import tasks

    seen = []
    monkeypatch.setattr(
        tasks.rollups_rebuild, "delay",
        lambda: seen.append(__import__("django.db").db.connection.schema_name),
    )
    assert tasks.rollups_rebuild_all() >= 2
    assert {schools.a.tenant.schema_name, schools.b.tenant.schema_name} <= set(seen)


def test_practice_beacons_are_clamped_and_need_a_mode(in_a):
    actor = member(in_a.student, in_a.tenant)
    event = services.practice_record(member=actor, seconds=10_000, mode="playing")
    assert event.data["seconds"] == services.MAX_PRACTICE_SECONDS_PER_BEACON
    assert services.practice_record(member=actor, seconds=0, mode="playing") is None
