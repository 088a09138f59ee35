"""Notifications made on a schedule rather than by an event: due-date reminders (24 hours
before) and the weekly digest. Each has a dedupe key, so a rerun sends nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from analytics import notifications, selectors
from analytics.models import Notification, WeeklyRollup
from analytics.rollups import week_start
from learning.models import Exercise, Reply

REMIND_BEFORE = timedelta(hours=24)


def due_reminders_send(*, now: datetime | None = None) -> int:
    """Remind students of exercises due within a day that they have not replied to yet."""
    now = now or timezone.now()
    sent = 0
    due_soon = Exercise.objects.filter(
        status=Exercise.Status.PUBLISHED, due_at__gt=now, due_at__lte=now + REMIND_BEFORE
    )
    for exercise in due_soon:
        replied = set(Reply.objects.filter(exercise=exercise).values_list("student_id", flat=True))
        students = selectors.assigned_student_ids(exercise=exercise) - replied
        hours = max(1, round((exercise.due_at - now).total_seconds() / 3600))
        sent += len(
            notifications.notify(
                recipient_ids=students, kind=Notification.Kind.DUE_REMINDER,
                title=f"Due soon: {exercise.title}",
                body=f"“{exercise.title}” is due in about {hours} hours "
                f"({exercise.due_at:%a %-d %b, %H:%M} UTC). Record your attempt now.",
                url=reverse("learning:student_exercise", args=[exercise.public_id]),
                # A new due date is a new reminder.
                dedupe_key=f"due:{exercise.public_id.hex}:{exercise.due_at:%Y%m%d%H%M}",
            )
        )
    return sent


def weekly_digest_send(*, now: datetime | None = None) -> int:
    """Email every member a summary of last week (Monday to Sunday)."""
    now = now or timezone.now()
    last_week = week_start(now.date()) - timedelta(weeks=1)
    key = f"digest:{last_week.isoformat()}"
    rows = {r.user_id: r for r in WeeklyRollup.objects.filter(week=last_week)}
    tenant_row = rows.get(None)
    awaiting = Reply.objects.filter(status=Reply.Status.SUBMITTED).count()
    sent = 0
    title = f"Your week of {last_week:%-d %b}"
    for member in selectors.student_memberships():
        row = rows.get(member.user_id)
        lines = [
            f"Attempts recorded: {row.attempts if row else 0}",
            f"Practice time: {row.practice_minutes if row else 0} minutes",
            f"Feedback received: {row.feedback_received if row else 0}",
        ]
        sent += len(
            notifications.notify(
                recipient_ids=[member.user_id], kind=Notification.Kind.WEEKLY_DIGEST,
                title=title, body="\n".join(lines), url=reverse("analytics:dashboard"),
                dedupe_key=key,
            )
        )
    staff_lines = [
        f"Replies waiting for feedback now: {awaiting}",
        f"Replies received last week: {tenant_row.attempts if tenant_row else 0}",
        f"Feedback given last week: {tenant_row.feedback_given if tenant_row else 0}",
        f"Active students last week: {tenant_row.active_students if tenant_row else 0}",
    ]
    sent += len(
        notifications.notify(
            recipient_ids=selectors.teacher_user_ids(), kind=Notification.Kind.WEEKLY_DIGEST,
            title=title, body="\n".join(staff_lines), url=reverse("analytics:dashboard"),
            dedupe_key=key,
        )
    )
    return sent
