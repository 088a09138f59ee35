"""The student's dashboard and where a new student lands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from analytics.models import MemberProgress, WeeklyRollup
from analytics.rollups import current_streak
from analytics.selectors.common import WeekPoint, weekly_series, weeks_until
from learning.exercises import selectors as exercise_selectors
from learning.models import Comment, Exercise, Reply

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


def _comment_author(comment: Comment) -> str:
    if comment.author is None:
        return "Former member"
    if hasattr(comment, "peer") and comment.reply.exercise.peer_review_anonymous:
        return "A classmate"  # an anonymous peer review (learning.peer_review)
    return comment.author.display_name


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
        # A peer comment a teacher hid is not theirs to see (learning.peer_review).
        .filter(Q(peer__isnull=True) | Q(peer__hidden_at__isnull=True))
        .select_related("author", "reply__exercise", "peer")
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
            author=_comment_author(comment),
        )
        for comment in comments
    ]
    feedback.sort(key=lambda item: item.at, reverse=True)
    weeks = weeks_until(now.date())
    rollups = list(WeeklyRollup.objects.filter(user=user, week__gte=weeks[0]))
    progress = MemberProgress.objects.filter(user=user).first()
    series = weekly_series(rollups, weeks)
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
