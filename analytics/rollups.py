"""Progress rollups from the activity outbox: kept up to date event by event (`record`), and
rebuilt from all events at once (`rebuild`). Both read an event the same way (`changes_for`)
but add up differently, so the rebuild test checks the incremental bookkeeping.

Days and weeks are UTC (TIME_ZONE); a week starts on Monday (ISO).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from analytics.models import (
    COUNTER_FIELDS,
    DailyActivity,
    MemberProgress,
    Role,
    WeeklyRollup,
)
from learning.models import ActivityEvent
from tenants.models import TEACHING_ROLES


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Change:
    """What one event adds to one member's figures."""

    user_id: int
    role: str
    deltas: dict[str, int]
    active: bool  # the member acted (rather than being acted upon)

    @property
    def practised(self) -> bool:
        return self.active and bool(
            self.deltas.get("attempts") or self.deltas.get("practice_seconds")
        )


_ACTOR_COUNTER = {
    ActivityEvent.Kind.EXERCISE_PUBLISHED: "exercises_published",
    ActivityEvent.Kind.REPLY_SUBMITTED: "attempts",
    ActivityEvent.Kind.FEEDBACK_GIVEN: "feedback_given",
    ActivityEvent.Kind.COMMENT_CREATED: "comments",
    ActivityEvent.Kind.COMPARE_VIEWED: "compare_views",
}


def changes_for(event: ActivityEvent) -> list[Change]:
    if event.actor_id is None:
        return []
    role = Role.TEACHER if event.data.get("role") in TEACHING_ROLES else Role.STUDENT
    if event.kind == ActivityEvent.Kind.PRACTICE:
        deltas = {"practice_seconds": max(0, int(event.data.get("seconds") or 0))}
    else:
        deltas = {_ACTOR_COUNTER[event.kind]: 1} if event.kind in _ACTOR_COUNTER else {}
    changes = [Change(user_id=event.actor_id, role=role, deltas=deltas, active=True)]
    student_id = event.data.get("student_id")
    if event.kind == ActivityEvent.Kind.FEEDBACK_GIVEN and student_id:
        changes.append(
            Change(
                user_id=int(student_id), role=Role.STUDENT,
                deltas={"feedback_received": 1}, active=False,
            )
        )
    return changes


def streak_ending(days: list[date]) -> tuple[date | None, int]:
    """The last practice day and the run of consecutive days that ends on it."""
    if not days:
        return None, 0
    ordered = sorted(set(days))
    streak = 1
    for earlier, later in zip(reversed(ordered[:-1]), reversed(ordered), strict=False):
        if later - earlier != timedelta(days=1):
            break
        streak += 1
    return ordered[-1], streak


def current_streak(progress: MemberProgress | None, today: date) -> int:
    """A streak is alive while the member practised today or yesterday."""
    if progress is None or progress.last_practice_on is None:
        return 0
    return progress.streak_days if progress.last_practice_on >= today - timedelta(days=1) else 0


# --- Incremental --------------------------------------------------------------------------


def _bump(row, deltas: dict[str, int]) -> None:
    updates = {name: F(name) + value for name, value in deltas.items() if value}
    if updates:
        type(row).objects.filter(pk=row.pk).update(**updates)


@transaction.atomic
def record(*, event: ActivityEvent) -> None:
    """Add one committed event to the rollups."""
    day = event.occurred_at.date()
    week = week_start(day)
    tenant_week, _ = WeeklyRollup.objects.get_or_create(user=None, week=week)
    tenant_deltas: dict[str, int] = defaultdict(int)
    for change in changes_for(event):
        daily, _ = DailyActivity.objects.get_or_create(
            user_id=change.user_id, day=day, defaults={"role": change.role}
        )
        _bump(daily, change.deltas)
        weekly, _ = WeeklyRollup.objects.get_or_create(
            user_id=change.user_id, week=week, defaults={"role": change.role}
        )
        _bump(weekly, change.deltas)
        for name, value in change.deltas.items():
            tenant_deltas[name] += value
        if change.active:
            DailyActivity.objects.filter(pk=daily.pk, active=False).update(active=True)
            # The UPDATE reports whether this is the member's first act of the week.
            if WeeklyRollup.objects.filter(pk=weekly.pk, active=False).update(active=True):
                counter = "active_teachers" if change.role == Role.TEACHER else "active_students"
                tenant_deltas[counter] += 1
            _progress(change, event.occurred_at)
    _bump(tenant_week, tenant_deltas)


def _progress(change: Change, at: datetime) -> None:
    progress, _ = MemberProgress.objects.get_or_create(
        user_id=change.user_id, defaults={"role": change.role}
    )
    progress = MemberProgress.objects.select_for_update().get(pk=progress.pk)
    fields = ["role"]
    progress.role = change.role
    if progress.last_active_at is None or at > progress.last_active_at:
        progress.last_active_at = at
        fields.append("last_active_at")
    day = at.date()
    if change.practised and day != progress.last_practice_on:
        last = progress.last_practice_on
        if last is None or day == last + timedelta(days=1):
            progress.streak_days = progress.streak_days + 1 if last else 1
            progress.last_practice_on = day
        elif day > last:
            progress.streak_days, progress.last_practice_on = 1, day
        else:  # an event from before the last practice day arrived late: count again
            days = DailyActivity.objects.filter(user_id=change.user_id, active=True).filter(
                Q(attempts__gt=0) | Q(practice_seconds__gt=0)
            ).values_list("day", flat=True)
            progress.last_practice_on, progress.streak_days = streak_ending([*days, day])
        fields += ["streak_days", "last_practice_on"]
    progress.save(update_fields=fields)


# --- Rebuild ------------------------------------------------------------------------------


@dataclass
class _Member:
    role: str = Role.STUDENT
    last_active_at: datetime | None = None
    practice_days: set[date] = field(default_factory=set)


@transaction.atomic
def rebuild() -> int:
    """Recompute every rollup of the current tenant from its events; returns the event count."""
    days: dict[tuple[int, date], DailyActivity] = {}
    weeks: dict[tuple[int | None, date], WeeklyRollup] = {}
    members: dict[int, _Member] = defaultdict(_Member)
    count = 0
    events = ActivityEvent.objects.order_by("occurred_at", "pk").only(
        "kind", "actor_id", "data", "occurred_at"
    )
    for event in events.iterator(chunk_size=5000):
        count += 1
        day = event.occurred_at.date()
        week = week_start(day)
        weeks.setdefault((None, week), WeeklyRollup(user=None, week=week))
        for change in changes_for(event):
            daily = days.setdefault(
                (change.user_id, day),
                DailyActivity(user_id=change.user_id, day=day, role=change.role),
            )
            weekly = weeks.setdefault(
                (change.user_id, week),
                WeeklyRollup(user_id=change.user_id, week=week, role=change.role),
            )
            for row in (daily, weekly, weeks[(None, week)]):
                for name, value in change.deltas.items():
                    setattr(row, name, getattr(row, name) + value)
            if change.active:
                daily.active = weekly.active = True
                member = members[change.user_id]
                member.role = change.role
                member.last_active_at = max(
                    filter(None, [member.last_active_at, event.occurred_at])
                )
                if change.practised:
                    member.practice_days.add(day)
    for (user_id, week), weekly in weeks.items():
        if user_id is not None and weekly.active:
            tenant = weeks[(None, week)]
            if weekly.role == Role.TEACHER:
                tenant.active_teachers += 1
            else:
                tenant.active_students += 1
    DailyActivity.objects.all().delete()
    WeeklyRollup.objects.all().delete()
    MemberProgress.objects.all().delete()
    DailyActivity.objects.bulk_create(days.values(), batch_size=2000)
    WeeklyRollup.objects.bulk_create(weeks.values(), batch_size=2000)
    progress = []
    for user_id, member in members.items():
        last, streak = streak_ending(list(member.practice_days))
        progress.append(
            MemberProgress(
                user_id=user_id, role=member.role, last_active_at=member.last_active_at,
                last_practice_on=last, streak_days=streak,
            )
        )
    MemberProgress.objects.bulk_create(progress, batch_size=2000)
    return count


def snapshot() -> dict:
    """All rollup figures of the current tenant, comparable between two ways of building them."""
    fields = [*COUNTER_FIELDS, "role", "active"]
    return {
        "days": sorted(
            DailyActivity.objects.values_list("user_id", "day", *fields)
        ),
        "weeks": sorted(
            WeeklyRollup.objects.values_list(
                "user_id", "week", *fields, "active_students", "active_teachers"
            ),
            key=repr,
        ),
        "members": sorted(
            MemberProgress.objects.values_list(
                "user_id", "role", "last_active_at", "last_practice_on", "streak_days"
            )
        ),
    }
