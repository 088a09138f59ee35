"""analytics' part of deleting a member (tenants.services.deletion calls it through
`PRACTIKA_DATA_DELETION_HOOKS`, inside the member's tenant): their progress, notifications,
preferences, and the notifications others got about what they did. The tenant's own rollups
are rebuilt nightly from the events that remain (learning.deletion deletes the member's)."""

from __future__ import annotations

from django.db import transaction

from analytics.models import (
    DailyActivity,
    MemberProgress,
    Notification,
    NotificationPreference,
    WeeklyRollup,
)


@transaction.atomic
def member_purge(*, member, comments: str) -> dict[str, int]:
    """Delete what analytics keeps of `member` in the current tenant."""
    user_id = member.user_id
    about_them = Notification.objects.filter(event__actor_id=user_id).delete()[0]
    rows = sum(
        model.objects.filter(**{field: user_id}).delete()[0]
        for model, field in (
            (Notification, "recipient_id"),
            (NotificationPreference, "user_id"),
            (MemberProgress, "user_id"),
            (DailyActivity, "user_id"),
            (WeeklyRollup, "user_id"),
        )
    )
    return {"progress_and_notifications": rows + about_them}


def events_purge(*, event_ids: list[int]) -> dict[str, int]:
    """The notifications these activity events sent (learning's retention deletes the events
    of expired replies: what the notifications told of them goes too)."""
    return {"notifications": Notification.objects.filter(event_id__in=event_ids).delete()[0]}
