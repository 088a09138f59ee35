"""analytics' part of an export (learning.exports, through `PRACTIKA_EXPORT_SECTIONS`):
notifications, notification choices, and the practice and progress figures."""

from __future__ import annotations

from django.db.models import F

from analytics.models import (
    DailyActivity,
    MemberProgress,
    Notification,
    NotificationPreference,
    WeeklyRollup,
)
from learning.exports.sections import Scope, Section, section

COUNTERS = (
    "attempts",
    "practice_seconds",
    "feedback_received",
    "feedback_given",
    "comments",
    "compare_views",
    "exercises_published",
)


def sections(scope: Scope) -> list[Section]:
    own = scope.own
    return [
        section(
            "notifications",
            "What each member was told, in the app and by email.",
            lambda: Notification.objects.filter(own("recipient")).order_by("created_at", "pk"),
            "public_id",
            "kind",
            "title",
            "body",
            "url",
            "in_app",
            "email_wanted",
            "emailed_at",
            "read_at",
            "created_at",
            recipient_email=F("recipient__email"),
        ),
        section(
            "notification_preferences",
            "Which notifications each member turned on or off.",
            lambda: NotificationPreference.objects.filter(own("user")).order_by("pk"),
            "kind",
            "channel",
            "enabled",
            "updated_at",
            user_email=F("user__email"),
        ),
        section(
            "practice_daily",
            "Each member's activity and practice time per day (UTC).",
            lambda: DailyActivity.objects.filter(own("user")).order_by("day", "pk"),
            "day",
            "role",
            "active",
            *COUNTERS,
            user_email=F("user__email"),
        ),
        section(
            "practice_weekly",
            "Weekly figures per member, and for the whole tenant (no email).",
            lambda: WeeklyRollup.objects.filter(own("user")).order_by("week", "pk"),
            "week",
            "role",
            "active",
            "active_students",
            "active_teachers",
            *COUNTERS,
            user_email=F("user__email"),
        ),
        section(
            "member_progress",
            "Each member's last activity and practice streak.",
            lambda: MemberProgress.objects.filter(own("user")).order_by("pk"),
            "role",
            "last_active_at",
            "last_practice_on",
            "streak_days",
            user_email=F("user__email"),
        ),
    ]
