"""Reads for the dashboards and the bell. Each dashboard is computed from rollups and a
fixed set of aggregate queries, so its query count does not grow with students or replies
(tests/analytics assert it with 1,000 students and 10,000 replies)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from analytics.models import MemberProgress, Notification, Role, WeeklyRollup
from analytics.rollups import STAFF_ROLES, current_streak, week_start
from billing import selectors as billing_selectors
from learning.exercises import selectors as exercise_selectors
from learning.models import Comment, Exercise, Reply
from learning.replies import selectors as reply_selectors
from tenants.models import Invitation, Membership

CHART_WEEKS = 12


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class WeekPoint:
    week: date
    attempts: int = 0
    practice_minutes: int = 0
    comments: int = 0
    feedback: int = 0
    uploads: int = 0
    active_students: int = 0
    active_teachers: int = 0
    retention: float | None = None  # share of last week's active members active again

    @property
    def label(self) -> str:
        return self.week.strftime("%-d %b")

    @property
    def active_users(self) -> int:
        return self.active_students + self.active_teachers


def _weeks(today: date, count: int = CHART_WEEKS) -> list[date]:
    this_week = week_start(today)
    return [this_week - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def _series(rows: list[WeeklyRollup], weeks: list[date]) -> list[WeekPoint]:
    by_week = {row.week: row for row in rows}
    points = []
    for week in weeks:
        row = by_week.get(week)
        if row is None:
            points.append(WeekPoint(week=week))
            continue
        points.append(
            WeekPoint(
                week=week, attempts=row.attempts, practice_minutes=row.practice_minutes,
                comments=row.comments, feedback=row.feedback_given, uploads=row.uploads,
                active_students=row.active_students, active_teachers=row.active_teachers,
            )
        )
    return points


# --- Members --------------------------------------------------------------------------------


def staff_user_ids() -> list[int]:
    return list(
        Membership.objects.filter(tenant_id=connection.tenant.pk, role__in=STAFF_ROLES)
        .values_list("user_id", flat=True)
    )


def student_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(
        tenant_id=connection.tenant.pk, role=Role.STUDENT
    ).select_related("user")


def assigned_student_ids(*, exercise: Exercise) -> set[int]:
    """The students who see `exercise` (members only: someone who left is not reminded)."""
    students = set(student_memberships().values_list("user_id", flat=True))
    if exercise.assign_to_all:
        return students
    direct = set(exercise.assigned_students.values_list("id", flat=True))
    classes = set(
        Exercise.assigned_classes.through.objects.filter(exercise=exercise)
        .values_list("classroom__students", flat=True)
    )
    return students & (direct | classes)


def _assigned_counts(student_ids: set[int]) -> dict[int, int]:
    """Published exercises assigned to each student, in three queries whatever the numbers."""
    published = Exercise.objects.filter(status=Exercise.Status.PUBLISHED)
    for_all = published.filter(assign_to_all=True).count()
    pairs: set[tuple[int, int]] = set(
        Exercise.assigned_students.through.objects.filter(
            exercise__status=Exercise.Status.PUBLISHED, exercise__assign_to_all=False
        ).values_list("user_id", "exercise_id")
    )
    pairs |= set(
        Exercise.assigned_classes.through.objects.filter(
            exercise__status=Exercise.Status.PUBLISHED, exercise__assign_to_all=False,
            classroom__students__isnull=False,
        ).values_list("classroom__students", "exercise_id")
    )
    counts: dict[int, int] = defaultdict(int)
    for student_id, _exercise_id in pairs:
        counts[student_id] += 1
    return {sid: for_all + counts.get(sid, 0) for sid in student_ids}


# --- Student dashboard ----------------------------------------------------------------------

STATUS_LABELS = {
    "not_started": "Not started",
    Reply.Status.SUBMITTED: "Submitted",
    Reply.Status.REVIEWED: "Reviewed",
    Reply.Status.TRY_AGAIN: "Try again",
}


@dataclass(frozen=True)
class AssignedRow:
    exercise: Exercise
    status: str
    latest_reply: Reply | None
    overdue: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class FeedbackItem:
    at: datetime
    kind: str  # "review" or "comment"
    exercise_title: str
    reply_id: str
    text: str
    author: str


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str


@dataclass(frozen=True)
class StudentDashboard:
    rows: list[AssignedRow]
    feedback: list[FeedbackItem]
    streak: int
    weeks: list[WeekPoint]
    next_step: NextStep | None
    attempts_total: int = 0
    practice_minutes_total: int = 0


def _next_step(rows: list[AssignedRow]) -> NextStep | None:
    def compare_url(reply: Reply) -> str:
        return reverse("learning:compare", args=[reply.public_id])

    def exercise_url(row: AssignedRow) -> str:
        return reverse("learning:student_exercise", args=[row.exercise.public_id])

    for row in rows:
        if row.status == Reply.Status.TRY_AGAIN:
            return NextStep(f"Try “{row.exercise.title}” again", exercise_url(row))
    for row in rows:
        reply = row.latest_reply
        if reply and reply.reviewed_at and not reply.student_seen_at:
            return NextStep(f"Read your feedback on “{row.exercise.title}”", compare_url(reply))
    for row in rows:  # rows are ordered by due date
        if row.status == "not_started":
            return NextStep(
                f"Record your first attempt at “{row.exercise.title}”", exercise_url(row)
            )
    return None


def student_dashboard(*, user, now: datetime | None = None) -> StudentDashboard:
    now = now or timezone.now()
    exercises = list(exercise_selectors.exercises_for_student(student=user))
    latest = {
        reply.exercise_id: reply
        for reply in Reply.objects.filter(student=user)
        .order_by("exercise_id", "-attempt")
        .distinct("exercise_id")
    }
    rows = []
    for exercise in exercises:
        reply = latest.get(exercise.pk)
        status = reply.status if reply else "not_started"
        overdue = bool(exercise.due_at and exercise.due_at < now and reply is None)
        rows.append(AssignedRow(exercise=exercise, status=status, latest_reply=reply,
                                overdue=overdue))
    reviews = (
        Reply.objects.filter(student=user, reviewed_at__isnull=False)
        .select_related("exercise", "reviewed_by")
        .order_by("-reviewed_at")[:10]
    )
    comments = (
        Comment.objects.filter(reply__student=user)
        .exclude(author=user)
        .select_related("author", "reply__exercise")
        .order_by("-created_at")[:10]
    )
    feedback = [
        FeedbackItem(
            at=reply.reviewed_at, kind="review", exercise_title=reply.exercise.title,
            reply_id=str(reply.public_id), text=reply.get_status_display(),
            author=reply.reviewed_by.display_name if reply.reviewed_by else "",
        )
        for reply in reviews
    ] + [
        FeedbackItem(
            at=comment.created_at, kind="comment", exercise_title=comment.reply.exercise.title,
            reply_id=str(comment.reply.public_id), text=comment.body[:280],
            author=comment.author.display_name,
        )
        for comment in comments
    ]
    feedback.sort(key=lambda item: item.at, reverse=True)
    weeks = _weeks(now.date())
    rollups = list(WeeklyRollup.objects.filter(user=user, week__gte=weeks[0]))
    progress = MemberProgress.objects.filter(user=user).first()
    series = _series(rollups, weeks)
    return StudentDashboard(
        rows=rows,
        feedback=feedback[:10],
        streak=current_streak(progress, now.date()),
        weeks=series,
        next_step=_next_step(rows),
        attempts_total=sum(p.attempts for p in series),
        practice_minutes_total=sum(p.practice_minutes for p in series),
    )


def landing_exercise(*, user) -> Exercise | None:
    """The exercise a new student should land on: their only one, if they have not replied."""
    exercises = list(exercise_selectors.exercises_for_student(student=user)[:2])
    if len(exercises) == 1 and not Reply.objects.filter(student=user).exists():
        return exercises[0]
    return None


# --- Teacher dashboard ----------------------------------------------------------------------


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


def teacher_dashboard(*, now: datetime | None = None) -> TeacherDashboard:
    now = now or timezone.now()
    awaiting_all = reply_selectors.replies_awaiting_feedback()
    awaiting = list(awaiting_all[:20])
    awaiting_total = awaiting_all.count()
    recent = Reply.objects.filter(reviewed_at__gte=now - timedelta(days=30))
    figures = recent.aggregate(
        median=Median(F("reviewed_at") - F("created_at")), n=Count("pk")
    )
    memberships = list(student_memberships())
    student_ids = {m.user_id for m in memberships}
    assigned = _assigned_counts(student_ids)
    replies = {
        row["student_id"]: row
        for row in Reply.objects.values("student_id").annotate(
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
    for membership in memberships:
        uid = membership.user_id
        counts = replies.get(uid, {})
        activity = progress.get(uid)
        seen = [membership.last_active_at, activity.last_active_at if activity else None]
        students.append(
            StudentRow(
                user_id=uid, public_id=str(membership.user.public_id),
                name=membership.user.display_name, assigned=assigned.get(uid, 0),
                submitted=counts.get("submitted", 0), reviewed=counts.get("reviewed", 0),
                last_active_at=max(filter(None, seen), default=None),
                streak=current_streak(activity, today),
            )
        )
    weeks = _weeks(today)
    rollups = list(WeeklyRollup.objects.filter(user__isnull=True, week__gte=weeks[0]))
    return TeacherDashboard(
        awaiting=awaiting,
        awaiting_total=awaiting_total,
        median_feedback=figures["median"],
        reviewed_last_30_days=figures["n"],
        students=students,
        weeks=_series(rollups, weeks),
    )


# --- School admin dashboard -----------------------------------------------------------------


@dataclass(frozen=True)
class AdminDashboard:
    active_teachers: int
    active_students: int
    weeks: list[WeekPoint]
    storage_used: int
    storage_limit: int | None
    seats: int | None
    students: int
    student_limit: int | None
    plan_name: str

    @property
    def this_week(self) -> WeekPoint:
        return self.weeks[-1]

    @property
    def storage_share(self) -> float | None:
        if not self.storage_limit:
            return None
        return min(1.0, self.storage_used / self.storage_limit)


def admin_dashboard(*, now: datetime | None = None) -> AdminDashboard:
    now = now or timezone.now()
    weeks = _weeks(now.date(), CHART_WEEKS + 1)  # one more to know the first week's retention
    rollups = list(WeeklyRollup.objects.filter(user__isnull=True, week__gte=weeks[0]))
    active: dict[date, set[int]] = defaultdict(set)
    for user_id, week in WeeklyRollup.objects.filter(
        user__isnull=False, active=True, week__gte=weeks[0]
    ).values_list("user_id", "week"):
        active[week].add(user_id)
    points = []
    for previous, point in zip(_series(rollups, weeks), _series(rollups, weeks)[1:], strict=False):
        before = active.get(previous.week, set())
        retention = len(before & active.get(point.week, set())) / len(before) if before else None
        points.append(WeekPoint(**{**point.__dict__, "retention": retention}))
    tenant = connection.tenant
    entitlements = billing_selectors.entitlements_for_tenant(tenant, now=now)
    return AdminDashboard(
        active_teachers=points[-1].active_teachers,
        active_students=points[-1].active_students,
        weeks=points,
        storage_used=billing_selectors.storage_used(tenant=tenant),
        storage_limit=entitlements.limits.storage_bytes,
        seats=entitlements.seats,
        students=billing_selectors.student_count(tenant=tenant),
        student_limit=entitlements.limits.students,
        plan_name=entitlements.plan.name,
    )


# --- The bell -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bell:
    unread: int
    items: list[Notification]


def bell_for(*, user, limit: int = 8) -> Bell:
    shown = Notification.objects.filter(recipient=user, in_app=True)
    items = list(shown.order_by("-created_at", "-pk")[:limit])
    return Bell(unread=shown.filter(read_at__isnull=True).count(), items=items)


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, in_app=True).order_by("-created_at", "-pk")
