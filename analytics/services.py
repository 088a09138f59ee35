"""Writes of analytics: practice time and compare views (into the activity outbox), the sample
exercise of a new studio, and the dashboards' cache version."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from analytics.models import Milestone
from analytics.selectors.teacher import SAMPLE_MILESTONE
from learning import activity, roles
from learning.errors import DomainError
from learning.exercises import services as exercise_services
from learning.models import ActivityEvent, Exercise, Reply
from tenants.models import Membership

# One beacon covers at most this much time; the page sends one every 15 seconds or so.
MAX_PRACTICE_SECONDS_PER_BEACON = 120
# A compare page opened again within this time is the same viewing.
COMPARE_VIEW_WINDOW = timedelta(minutes=10)
DASHBOARD_VERSION_KEY = "analytics:dashboards:version"
SAMPLE_TITLE = "Sample: C major scale, two octaves"
SAMPLE_INSTRUCTIONS = """This is a sample exercise to show how Practika works. Edit it or delete it.

1. Record yourself playing a C major scale, two octaves up and down, at ♩ = 72.
2. Keep every note even: listen for the thumb-under (piano) or the shift (strings).
3. Upload a recording as the demonstration, choose who gets it and publish it.

Your students record a reply, and you comment on the exact moment side by side."""


@transaction.atomic
def practice_record(
    *, member: Membership, seconds: int, mode: str, reply: Reply | None = None,
    exercise: Exercise | None = None,
) -> ActivityEvent | None:
    """Count time a member spent playing the compare page or recording."""
    if mode not in ("playing", "recording"):
        raise DomainError("Practice is playing or recording.", code="mode_invalid")
    seconds = max(0, min(MAX_PRACTICE_SECONDS_PER_BEACON, int(seconds)))
    if seconds == 0:
        return None
    return activity.emit(
        kind=ActivityEvent.Kind.PRACTICE, member=member, seconds=seconds, mode=mode,
        reply=reply.public_id if reply else None,
        exercise=exercise.public_id if exercise else (reply.exercise.public_id if reply else None),
    )


@transaction.atomic
def compare_view_record(*, member: Membership, reply: Reply) -> ActivityEvent | None:
    """Count an opened compare page (once per member and reply within ten minutes)."""
    recent = ActivityEvent.objects.filter(
        kind=ActivityEvent.Kind.COMPARE_VIEWED, actor=member.user,
        occurred_at__gte=timezone.now() - COMPARE_VIEW_WINDOW, data__reply=str(reply.public_id),
    )
    if recent.exists():
        return None
    return activity.emit(
        kind=ActivityEvent.Kind.COMPARE_VIEWED, member=member, reply=reply.public_id,
        student_id=reply.student_id,
    )


def sample_exercise_ensure(*, member: Membership) -> Exercise | None:
    """Give a new studio its sample exercise when a teacher asks for it, and never again.

    Offered on the dashboard and added by its POST (views.sample_exercise_add) rather than at
    sign-up: tenants.services creates the tenant and may not import learning, and this keeps
    sign-up fast. The milestone row remembers it was done, so a teacher who deletes the
    sample does not get it back.
    """
    if not roles.is_teacher(member) or Milestone.objects.filter(key=SAMPLE_MILESTONE).exists():
        return None
    with transaction.atomic():
        _, created = Milestone.objects.get_or_create(key=SAMPLE_MILESTONE)
        if not created or Exercise.objects.exists():
            return None
        return exercise_services.exercise_save(
            member=member, title=SAMPLE_TITLE, instructions=SAMPLE_INSTRUCTIONS,
            instrument="Any", tags=["sample"],
        )


ONBOARDING_MILESTONE = "onboarding_done"
# The tenant's onboarding is done for good (its milestone row is never deleted): remembered in
# the tenant's cache too, so a teacher's dashboard costs no statement for it.
ONBOARDING_DONE_KEY = "analytics:onboarding-done"
ONBOARDING_DONE_SECONDS = 24 * 60 * 60


def onboarding_checklist_for(*, member: Membership) -> list:
    """The checklist while a step is open; once all are done it is remembered and gone (so
    established tenants do not pay its queries on every dashboard view)."""
    from analytics import selectors

    if not roles.is_teacher(member) or cache.get(ONBOARDING_DONE_KEY):
        return []
    if Milestone.objects.filter(key=ONBOARDING_MILESTONE).exists():
        cache.set(ONBOARDING_DONE_KEY, True, ONBOARDING_DONE_SECONDS)
        return []
    steps = selectors.onboarding_checklist()
    if all(step.done for step in steps):
        Milestone.objects.get_or_create(key=ONBOARDING_MILESTONE)
        return []
    return steps


def dashboards_invalidate() -> None:
    """Something happened in this tenant: cached dashboard figures are stale."""
    cache.set(DASHBOARD_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def dashboards_version() -> str:
    version = cache.get(DASHBOARD_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(DASHBOARD_VERSION_KEY, version, timeout=None)
        version = cache.get(DASHBOARD_VERSION_KEY, version)
    return version
