"""The teacher's dashboard: students, replies awaiting feedback, the weekly charts, and the
new teacher's onboarding checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Max, Q
from django.urls import reverse
from django.utils import timezone

from analytics.models import MemberProgress, Milestone, Role, WeeklyRollup
from analytics.rollups import current_streak
from analytics.selectors.common import (
    Median,
    WeekPoint,
    assigned_counts,
    student_memberships,
    weekly_series,
    weeks_until,
)
from learning.models import Comment, Exercise, MediaFile, Reply
from learning.replies import selectors as reply_selectors
from tenants.models import Invitation, Membership

SAMPLE_MILESTONE = "sample_exercise"


@dataclass(frozen=True)
class StudentRow:
    user_id: int
    public_id: str
    name: str
    assigned: int
    submitted: int
    reviewed: int
    last_active_at: datetime | None
    streak: int


@dataclass(frozen=True)
class ChecklistStep:
    key: str
    text: str
    done: bool
    url: str


@dataclass(frozen=True)
class TeacherDashboard:
    awaiting: list[Reply]
    awaiting_total: int
    median_feedback: timedelta | None
    reviewed_last_30_days: int
    students: list[StudentRow]
    weeks: list[WeekPoint]


SORT_KEYS = {
    "name": lambda row: row.name.lower(),
    "assigned": lambda row: row.assigned,
    "submitted": lambda row: row.submitted,
    "reviewed": lambda row: row.reviewed,
    "last_active": lambda row: row.last_active_at or datetime.min.replace(tzinfo=UTC),
    "streak": lambda row: row.streak,
}


def sort_students(rows: list[StudentRow], sort: str) -> tuple[list[StudentRow], str]:
    """Rows ordered by a column ("-column" for descending); unknown columns sort by name."""
    name = sort.lstrip("-")
    if name not in SORT_KEYS:
        sort, name = "name", "name"
    return sorted(rows, key=SORT_KEYS[name], reverse=sort.startswith("-")), sort


def onboarding_checklist() -> list[ChecklistStep]:
    """The new teacher's first steps, ticked from what exists (not from flags); empty once
    they were all done (see services.onboarding_checklist_for)."""
    has_exercise = Exercise.objects.exclude(tags__contains=["sample"]).exists()
    has_student = Membership.objects.filter(
        tenant_id=connection.tenant.pk, role=Role.STUDENT
    ).exists() or Invitation.objects.filter(
        tenant_id=connection.tenant.pk, role=Role.STUDENT, revoked_at__isnull=True
    ).exists()
    gave_feedback = (
        Reply.objects.filter(reviewed_at__isnull=False).exists()
        or Comment.objects.exclude(author_id=F("reply__student_id")).exists()
    )
    return [
        ChecklistStep("exercise", "Create your first exercise", has_exercise,
                      reverse("learning:exercise_create")),
        ChecklistStep("invite", "Invite a student", has_student, reverse("tenants:members")),
        ChecklistStep("feedback", "Give your first feedback", gave_feedback,
                      reverse("learning:inbox")),
    ]


def teacher_dashboard(*, member: Membership, now: datetime | None = None) -> TeacherDashboard:
    """The dashboard of `member`: the replies awaiting feedback are those they may see
    (learning's one visibility rule); the school's figures are the school's."""
    now = now or timezone.now()
    awaiting_all = reply_selectors.replies_awaiting_feedback(member=member)
    awaiting = list(awaiting_all[:20])
    awaiting_total = awaiting_all.count()
    recent = Reply.objects.filter(reviewed_at__gte=now - timedelta(days=30))
    figures = recent.aggregate(median=Median(F("reviewed_at") - F("created_at")))
    # Counted as the students table counts "Reviewed" (exercises whose attempt is marked
    # reviewed, not every answer such as "try again"), so the two never disagree.
    figures["n"] = (
        recent.filter(status=Reply.Status.REVIEWED)
        .values("student_id", "exercise_id")
        .distinct()
        .count()
    )
    memberships = list(student_memberships())
    student_ids = {m.user_id for m in memberships}
    assigned = assigned_counts(student_ids)
    replies = {
        row["student_id"]: row
        for row in Reply.objects.exclude(media__state=MediaFile.State.FAILED)
        .values("student_id")
        .annotate(
            submitted=Count("exercise_id", distinct=True),
            reviewed=Count(
                "exercise_id", distinct=True, filter=Q(status=Reply.Status.REVIEWED)
            ),
            last=Max("created_at"),
        )
    }
    progress = {p.user_id: p for p in MemberProgress.objects.filter(user_id__in=student_ids)}
    today = now.date()
    students = []
    for member in memberships:
        uid = member.user_id
        counts = replies.get(uid, {})
        activity = progress.get(uid)
        seen = [member.last_active_at, activity.last_active_at if activity else None]
        students.append(
            StudentRow(
                user_id=uid, public_id=str(member.user.public_id),
                name=member.user.display_name, assigned=assigned.get(uid, 0),
                submitted=counts.get("submitted", 0), reviewed=counts.get("reviewed", 0),
                last_active_at=max(filter(None, seen), default=None),
                streak=current_streak(activity, today),
            )
        )
    weeks = weeks_until(today)
    rollups = list(WeeklyRollup.objects.filter(user__isnull=True, week__gte=weeks[0]))
    return TeacherDashboard(
        awaiting=awaiting,
        awaiting_total=awaiting_total,
        median_feedback=figures["median"],
        reviewed_last_30_days=figures["n"],
        students=students,
        weeks=weekly_series(rollups, weeks),
    )


def sample_exercise_available() -> bool:
    """Whether a new studio may still add its sample exercise (services.sample_exercise_ensure):
    never added before, and no exercise exists yet."""
    return (
        not Milestone.objects.filter(key=SAMPLE_MILESTONE).exists()
        and not Exercise.objects.exists()
    )
