"""Progress rollups, notifications and preferences, in each tenant's schema.

The rollups are derived data: `analytics.rollups` keeps them up to date from the activity
outbox (learning.ActivityEvent) as events commit, and can rebuild them from the events alone.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Counters(models.Model):
    """The figures every rollup counts."""

    attempts = models.PositiveIntegerField(default=0)  # replies submitted
    practice_seconds = models.PositiveIntegerField(default=0)
    feedback_received = models.PositiveIntegerField(default=0)  # reviews of one's replies
    feedback_given = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    compare_views = models.PositiveIntegerField(default=0)
    exercises_published = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


COUNTER_FIELDS = (
    "attempts", "practice_seconds", "feedback_received", "feedback_given", "comments",
    "compare_views", "exercises_published",
)


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    TEACHER = "teacher", "Teacher"  # owners, admins and teachers


class DailyActivity(Counters):
    """One member's activity on one day (UTC): the base of streaks and weekly figures."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    role = models.CharField(max_length=10, choices=Role.choices)
    # The member did something that day (being reviewed alone does not make one active).
    active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="daily_activity_user_day"),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"


class WeeklyRollup(Counters):
    """Figures of one ISO week (starting Monday): per member, or tenant-wide when `user` is
    empty. Tenant-wide rows also count the members active that week."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    week = models.DateField()
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    active = models.BooleanField(default=False)  # per-member rows: did something that week
    active_students = models.PositiveIntegerField(default=0)
    active_teachers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "week"], condition=models.Q(user__isnull=False),
                name="weekly_rollup_user_week",
            ),
            models.UniqueConstraint(
                fields=["week"], condition=models.Q(user__isnull=True),
                name="weekly_rollup_tenant_week",
            ),
        ]
        indexes = [models.Index(fields=["week", "role"])]

    def __str__(self) -> str:
        return f"{self.user_id or 'tenant'} week of {self.week}"

    @property
    def uploads(self) -> int:
        return self.attempts + self.exercises_published

    @property
    def practice_minutes(self) -> int:
        return round(self.practice_seconds / 60)


class MemberProgress(models.Model):
    """What a dashboard shows of one member at a glance: last activity and practice streak."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    last_active_at = models.DateTimeField(null=True, blank=True)
    last_practice_on = models.DateField(null=True, blank=True)
    # Consecutive days with practice ending on `last_practice_on`.
    streak_days = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.streak_days}-day streak"


class Notification(models.Model):
    """One thing a member should hear about. The row is also the delivery record: the unique
    constraint keeps an event from notifying (or emailing) anyone twice."""

    class Kind(models.TextChoices):
        EXERCISE_ASSIGNED = "exercise_assigned", "New exercise assigned"
        REPLY_TO_REVIEW = "reply_to_review", "New reply to review"
        FEEDBACK_RECEIVED = "feedback_received", "Feedback received"
        NEW_COMMENT = "new_comment", "New comment"
        DUE_REMINDER = "due_reminder", "Due-date reminder"
        WEEKLY_DIGEST = "weekly_digest", "Weekly digest"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    event = models.ForeignKey(
        "learning.ActivityEvent", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    # What this notification is about, once: "event:<id>", "due:<exercise>", "digest:<week>".
    dedupe_key = models.CharField(max_length=80)
    in_app = models.BooleanField(default=True)  # shown in the bell (the member's preference)
    email_wanted = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "dedupe_key"], name="notification_once"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "in_app", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}: {self.title}"


class NotificationPreference(models.Model):
    """A member's choice for one kind on one channel. No row means the default: on."""

    class Channel(models.TextChoices):
        IN_APP = "in_app", "In the app"
        EMAIL = "email", "Email"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=Notification.Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notification_preference_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"


class Milestone(models.Model):
    """A one-off thing that happened to this tenant (e.g. the sample exercise was created), so
    it is never done again even after the member deletes what it made."""

    key = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
