"""The school's retention of replies: `Tenant.reply_retention_days` after a course ends
(`Classroom.ends_on`), its replies are deleted with their recordings, alignments and comments.

A reply expires when its exercise is assigned to at least one class, every one of those classes
has an end date, and the latest of them is more than the retention's days ago: with 30 days, a
class that ends on 1 June keeps its replies through 1 July and loses them on 2 July. Exercises
given to students one by one, and classes without an end date, are never expired. Exercises
themselves are the school's material and stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from learning.deletion import media_folder, stored_objects_delete_after_commit
from learning.models import ActivityEvent, Comment, Exercise, MediaFile, Reply
from tenants.services.auditing import audit
from tenants.services.deletion import activity_events_purge


@dataclass(frozen=True)
class RetentionResult:
    replies: int = 0
    comments: int = 0
    recordings: int = 0


def retention_cutoff(*, days: int, now: datetime | None = None) -> date:
    """Classes that ended before this day have expired replies."""
    return timezone.localdate(now or timezone.now()) - timedelta(days=days)


def expired_replies(*, days: int, now: datetime | None = None) -> QuerySet[Reply]:
    cutoff = retention_cutoff(days=days, now=now)
    still_running = Q(assigned_classes__ends_on__isnull=True) | Q(
        assigned_classes__ends_on__gte=cutoff
    )
    exercises = (
        Exercise.objects.annotate(
            classes=Count("assigned_classes"),
            running=Count("assigned_classes", filter=still_running),
        )
        .filter(classes__gt=0, running=0)
        .values("pk")
    )
    return Reply.objects.filter(exercise__in=exercises)


@transaction.atomic
def replies_expire(*, now: datetime | None = None) -> RetentionResult:
    """Delete the current tenant's replies its retention has expired, and record it (an audit
    event with the counts). Safe to run again: what is gone is not counted twice."""
    tenant = connection.tenant
    days = getattr(tenant, "reply_retention_days", None)
    if days is None:
        return RetentionResult()
    replies = expired_replies(days=days, now=now)
    rows = list(replies.values_list("pk", "public_id", "media_id"))
    if not rows:
        return RetentionResult()
    reply_pks = [pk for pk, _, _ in rows]
    on_replies = Comment.objects.filter(reply_id__in=reply_pks)
    # The replies' recordings and those of the comments on them (teachers' recorded notes).
    comment_media = list(on_replies.exclude(media=None).values_list("media_id", flat=True))
    media = list(
        MediaFile.objects.filter(pk__in=[media_id for _, _, media_id in rows] + comment_media)
    )
    comments = on_replies.count()
    events = ActivityEvent.objects.filter(data__reply__in=[str(pid) for _, pid, _ in rows])
    # What other apps made of those events (analytics' notifications) goes with them.
    activity_events_purge(event_ids=list(events.values_list("pk", flat=True)))
    events.delete()
    Reply.objects.filter(pk__in=reply_pks).delete()
    MediaFile.objects.filter(pk__in=[m.pk for m in media]).delete()
    stored_objects_delete_after_commit([p for p in (media_folder(m) for m in media) if p])
    result = RetentionResult(replies=len(rows), comments=comments, recordings=len(media))
    audit(
        actor=None,
        tenant=tenant,
        action="retention.replies_deleted",
        days=days,
        cutoff=retention_cutoff(days=days, now=now).isoformat(),
        replies=result.replies,
        comments=result.comments,
        recordings=result.recordings,
    )
    return result
