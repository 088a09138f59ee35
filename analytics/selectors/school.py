"""The school admin's dashboard: the whole school's figures, week by week."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from analytics.models import WeeklyRollup
from analytics.selectors.common import CHART_WEEKS, WeekPoint, weekly_series, weeks_until
from billing import selectors as billing_selectors


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
    weeks = weeks_until(now.date(), CHART_WEEKS + 1)  # one more to know the first week's retention
    rollups = list(WeeklyRollup.objects.filter(user__isnull=True, week__gte=weeks[0]))
    active: dict[date, set[int]] = defaultdict(set)
    for user_id, week in WeeklyRollup.objects.filter(
        user__isnull=False, active=True, week__gte=weeks[0]
    ).values_list("user_id", "week"):
        active[week].add(user_id)
    points = []
    series = weekly_series(rollups, weeks)
    for previous, point in itertools.pairwise(series):
        before = active.get(previous.week, set())
        retention = len(before & active.get(point.week, set())) / len(before) if before else None
        points.append(WeekPoint(**{**point.__dict__, "retention": retention}))
    tenant = connection.tenant
    entitlements = billing_selectors.entitlements_for_tenant(tenant=tenant, now=now)
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
