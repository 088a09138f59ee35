"""The school's retention of replies, on a frozen clock and real storage: exactly the replies
whose classes all ended more than the retention's days ago go, rows and stored objects, and the
run is recorded with its counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from analytics.models import Notification
from learning.models import ActivityEvent, Classroom, Comment, Exercise, MediaFile, Reply
from learning.replies import retention, tasks
from tenants.models import AuditEvent
from tests.conftest import mfa_client_for, token_client_for
from tests.support.deletion import fill

ENDED = date(2026, 6, 1)
DAYS = 30


def _class(name: str, ends_on: date | None) -> Classroom:
    return Classroom.objects.create(name=name, ends_on=ends_on)


@pytest.fixture
def course(school_a, real_storage, tmp_path):
    """Four exercises with one reply each: given to a class that ended on 1 June, to that class
    and one still running, to a class without an end date, and to no class at all."""
    tenant = school_a.tenant
    tenant.reply_retention_days = DAYS
    tenant.save(update_fields=["reply_retention_days"])
    made = {}
    for name in ("ended", "ended_and_running", "open_ended", "no_class"):
        made[name] = fill(
            tenant, teacher=school_a.teacher, students=[school_a.student], tmp_path=tmp_path
        )
    with tenant_context(tenant):
        ended = _class("Spring strings", ENDED)
        running = _class("Summer strings", ENDED + timedelta(days=60))
        open_ended = _class("Open studio", None)
        Exercise.objects.get(pk=made["ended"].exercise_ids[0]).assigned_classes.set([ended])
        Exercise.objects.get(pk=made["ended_and_running"].exercise_ids[0]).assigned_classes.set(
            [ended, running]
        )
        Exercise.objects.get(pk=made["open_ended"].exercise_ids[0]).assigned_classes.set(
            [open_ended]
        )
    return made


def _frozen(monkeypatch, day: date) -> datetime:
    moment = timezone.make_aware(datetime(day.year, day.month, day.day, 2, 15))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def _replies(tenant) -> set[int]:
    with tenant_context(tenant):
        return set(Reply.objects.values_list("pk", flat=True))


def test_retention_keeps_replies_through_the_last_day(school_a, course, monkeypatch):
    _frozen(monkeypatch, ENDED + timedelta(days=DAYS))  # 1 July: still kept
    before = _replies(school_a.tenant)
    with tenant_context(school_a.tenant):
        assert retention.replies_expire() == retention.RetentionResult()
    assert _replies(school_a.tenant) == before
    assert not AuditEvent.objects.filter(action="retention.replies_deleted").exists()


def test_retention_deletes_exactly_what_has_expired(
    school_a, course, real_storage, monkeypatch, django_capture_on_commit_callbacks
):
    tenant = school_a.tenant
    _frozen(monkeypatch, ENDED + timedelta(days=DAYS + 1))  # 2 July
    before = _replies(tenant)
    expired = course["ended"]
    with tenant_context(tenant):
        # A notification about each of two replies: the expired one's goes with it.
        notified = {}
        for name in ("ended", "ended_and_running"):
            reply = Reply.objects.get(pk=course[name].reply_ids[0])
            event = ActivityEvent.objects.create(
                kind=ActivityEvent.Kind.REPLY_SUBMITTED,
                actor=school_a.student,
                data={"reply": str(reply.public_id)},
                occurred_at=timezone.now(),
            )
            notified[name] = Notification.objects.create(
                recipient=school_a.teacher,
                kind=Notification.Kind.REPLY_TO_REVIEW,
                title=f"A reply from {school_a.student.email}",
                event=event,
                dedupe_key=f"event:{event.pk}",
            ).pk
        media_before = set(MediaFile.objects.values_list("pk", flat=True))
        comments_before = set(Comment.objects.values_list("pk", flat=True))
        exercises_before = set(Exercise.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        result = tasks.replies_retention()  # the task, run in the tenant as the worker would
    assert result == {"replies": 1, "comments": 2, "recordings": 1}

    assert _replies(tenant) == before - set(expired.reply_ids)
    with tenant_context(tenant):
        assert set(MediaFile.objects.values_list("pk", flat=True)) == media_before - {
            expired.media_ids[1]
        }
        assert set(Comment.objects.values_list("pk", flat=True)) == comments_before - set(
            expired.comment_ids
        )
        assert set(Exercise.objects.values_list("pk", flat=True)) == exercises_before
        assert set(
            Notification.objects.filter(pk__in=notified.values()).values_list("pk", flat=True)
        ) == {notified["ended_and_running"]}
    # The expired recording's objects are gone; the demonstration and every other reply's stay.
    gone, kept = expired.keys[2:], expired.keys[:2]
    for name in ("ended_and_running", "open_ended", "no_class"):
        kept += course[name].keys
    assert not any(real_storage.keys(key) for key in gone)
    assert all(real_storage.keys(key) == [key] for key in kept)
    event = AuditEvent.objects.get(tenant=tenant, action="retention.replies_deleted")
    assert event.actor is None
    assert event.data == {
        "days": DAYS,
        "cutoff": "2026-06-02",
        "replies": 1,
        "comments": 2,
        "recordings": 1,
    }
    # Run again the same day: nothing more to delete, nothing more recorded.
    with tenant_context(tenant):
        assert retention.replies_expire() == retention.RetentionResult()
    assert AuditEvent.objects.filter(action="retention.replies_deleted").count() == 1


def test_no_retention_set_keeps_everything(school_a, course, monkeypatch):
    school_a.tenant.reply_retention_days = None
    school_a.tenant.save(update_fields=["reply_retention_days"])
    _frozen(monkeypatch, ENDED + timedelta(days=3650))
    before = _replies(school_a.tenant)
    with tenant_context(school_a.tenant):
        assert retention.replies_expire() == retention.RetentionResult()
    assert _replies(school_a.tenant) == before


def test_the_beat_entry_queues_only_tenants_with_a_retention(school_a, school_b, monkeypatch):
    school_a.tenant.reply_retention_days = DAYS
    school_a.tenant.save(update_fields=["reply_retention_days"])
    queued = []
    monkeypatch.setattr(
        tasks.replies_retention,
        "delay",
        lambda: queued.append(connection.schema_name),
    )
    assert tasks.replies_retention_all() == 1
    assert queued == [school_a.tenant.schema_name]


def test_the_policy_is_set_by_admins_only(school_a, public_host):
    api = token_client_for(school_a.owner, school_a.host)
    body = {"member_comments_on_deletion": "delete", "reply_retention_days": 90}
    response = api.put("/api/v1/tenant/data-policy/", body, content_type="application/json")
    assert response.status_code == 200 and response.json() == body
    school_a.tenant.refresh_from_db()
    assert school_a.tenant.reply_retention_days == 90
    assert AuditEvent.objects.filter(
        tenant=school_a.tenant, action="tenant.data_policy_changed", actor=school_a.owner
    ).exists()
    bad = api.put(
        "/api/v1/tenant/data-policy/",
        {"member_comments_on_deletion": "shred", "reply_retention_days": -1},
        content_type="application/json",
    )
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {
        "member_comments_on_deletion",
        "reply_retention_days",
    }
    teacher = token_client_for(school_a.teacher, school_a.host)
    assert (
        teacher.put(
            "/api/v1/tenant/data-policy/", body, content_type="application/json"
        ).status_code
        == 403
    )
    # The settings page's form does the same.
    page = mfa_client_for(school_a.owner, school_a.host)
    assert "Data policy" in page.get("/manage/settings/").content.decode()
    page.post(
        "/manage/settings/data/", {"member_comments": "anonymise", "reply_retention_days": ""}
    )
    school_a.tenant.refresh_from_db()
    assert school_a.tenant.reply_retention_days is None
    assert school_a.tenant.member_comments_on_deletion == "anonymise"


def test_a_class_end_date_is_set_on_its_page_and_in_the_api(school_a):
    page = mfa_client_for(school_a.teacher, school_a.host)
    response = page.post("/teach/classes/new/", {"name": "Autumn", "ends_on": "2026-11-30"})
    assert response.status_code == 302
    with tenant_context(school_a.tenant):
        assert Classroom.objects.get(name="Autumn").ends_on == date(2026, 11, 30)
    api = token_client_for(school_a.teacher, school_a.host)
    made = api.post(
        "/api/v1/classes/",
        {"name": "Winter", "ends_on": "2027-02-28"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["ends_on"] == "2027-02-28"
