"""Reads of billing state: entitlements (computed locally), usage, invoices, staff figures.

Entitlements never call Stripe: they come from the stored subscription and the catalogue, so
pages and limit checks work the same with Stripe offline or not configured at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Greatest
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import plans
from billing.models import Invoice, Subscription, SubscriptionChange
from tenants.models import Membership, Role, Tenant, User

# --- Entitlements -------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantEntitlements:
    plan: plans.Plan
    limits: plans.Limits
    status: str  # "free", or the subscription's status
    subscription: Subscription | None
    seats: int | None
    past_due_since: datetime | None
    grace_ends_at: datetime | None
    read_only: bool  # past due beyond the grace period: nothing new may be created
    trial_end: datetime | None
    cancel_at_period_end: bool

    @property
    def past_due(self) -> bool:
        return self.past_due_since is not None


@dataclass(frozen=True)
class StudentEntitlements:
    plan: plans.Plan
    premium: bool
    video_seconds: int | None  # None: the tenant's limit applies
    attempts_per_exercise: int | None  # None: unlimited
    analysis: bool
    subscription: Subscription | None


def _grace() -> timedelta:
    return timedelta(days=settings.PRACTIKA_BILLING_GRACE_DAYS)


def current_subscription(*, tenant: Tenant | None = None, user: User | None = None):
    """The subscription that grants entitlements now (the newest granting one), or None."""
    owner = Q(tenant=tenant) if tenant is not None else Q(user=user)
    return (
        Subscription.objects.filter(owner, status__in=Subscription.GRANTING)
        .order_by("-stripe_version", "-created_at")
        .first()
    )


def latest_subscription(*, tenant: Tenant | None = None, user: User | None = None):
    """The newest subscription of any status (to say "canceled on …" on the billing page)."""
    owner = Q(tenant=tenant) if tenant is not None else Q(user=user)
    return Subscription.objects.filter(owner).order_by("-stripe_version", "-created_at").first()


def entitlements_for_tenant(tenant: Tenant, *, now: datetime | None = None) -> TenantEntitlements:
    """What `tenant` may do now: its plan's limits, or the free plan's without a live plan."""
    now = now or timezone.now()
    subscription = current_subscription(tenant=tenant)
    plan = subscription.plan if subscription is not None else plans.FREE
    if subscription is None or plan.audience != plans.Audience.TENANT:
        return TenantEntitlements(
            plan=plans.FREE, limits=plans.FREE.limits, status="free", subscription=None,
            seats=None, past_due_since=None, grace_ends_at=None, read_only=False,
            trial_end=None, cancel_at_period_end=False,
        )
    past_due_since = (
        subscription.past_due_since or now
        if subscription.status == Subscription.Status.PAST_DUE
        else None
    )
    grace_ends_at = past_due_since + _grace() if past_due_since else None
    return TenantEntitlements(
        plan=plan,
        limits=plan.limits,
        status=subscription.status,
        subscription=subscription,
        seats=subscription.quantity if plan.per_seat else None,
        past_due_since=past_due_since,
        grace_ends_at=grace_ends_at,
        read_only=grace_ends_at is not None and grace_ends_at <= now,
        trial_end=subscription.trial_end if subscription.status == "trialing" else None,
        cancel_at_period_end=subscription.cancel_at_period_end,
    )


def entitlements_for_student(user: User) -> StudentEntitlements:
    """A person's own plan, valid in every tenant they belong to."""
    subscription = current_subscription(user=user)
    premium = subscription is not None and subscription.plan_code == plans.STUDENT.code
    if premium and subscription.status == Subscription.Status.PAST_DUE:
        since = subscription.past_due_since or timezone.now()
        premium = since + _grace() > timezone.now()
    return StudentEntitlements(
        plan=plans.STUDENT if premium else plans.FREE,
        premium=premium,
        video_seconds=plans.STUDENT_PREMIUM_VIDEO_SECONDS if premium else None,
        attempts_per_exercise=None if premium else plans.FREE_ATTEMPTS_PER_EXERCISE,
        analysis=premium,
        subscription=subscription if premium else None,
    )


# --- Usage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    students: int
    exercises: int
    storage_bytes: int


def student_count(*, tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.STUDENT).count()


def storage_used(*, tenant: Tenant) -> int:
    """Bytes stored (or promised by an upload in progress) in `tenant`, failed uploads aside."""
    # Through the app registry, not an import: learning depends on billing, not the reverse.
    media = apps.get_model("learning", "MediaFile")
    with tenant_context(tenant):
        total = media.objects.exclude(state="failed").aggregate(
            n=Sum(Greatest("size_bytes", "declared_bytes"))
        )["n"]
    return int(total or 0)


def exercise_count(*, tenant: Tenant) -> int:
    exercise = apps.get_model("learning", "Exercise")
    with tenant_context(tenant):
        return exercise.objects.count()


def tenant_usage(*, tenant: Tenant) -> Usage:
    return Usage(
        students=student_count(tenant=tenant),
        exercises=exercise_count(tenant=tenant),
        storage_bytes=storage_used(tenant=tenant),
    )


# --- Invoices -----------------------------------------------------------------------------


def invoices_for(*, tenant: Tenant | None = None, user: User | None = None) -> QuerySet[Invoice]:
    owner = Q(subscription__tenant=tenant) if tenant is not None else Q(subscription__user=user)
    return Invoice.objects.filter(owner).order_by("-issued_at", "-pk")[:24]


# --- Staff dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class PastDueAccount:
    subscription: Subscription
    owner_name: str
    amount_due: int  # cents, open invoices
    past_due_since: datetime | None


@dataclass(frozen=True)
class RevenueRow:
    owner_name: str
    plan_name: str
    quantity: int
    mrr_cents: int


@dataclass(frozen=True)
class MrrPoint:
    month: str  # "2025-01"
    mrr_cents: int


@dataclass(frozen=True)
class Dashboard:
    mrr_cents: int
    arr_cents: int
    paying_by_plan: dict[str, int]
    trials: int
    seats: int
    churned_30d: int
    active_30d_ago: int
    churn_rate: float  # churned_30d / active_30d_ago, 0 when there was nobody to lose
    past_due: list[PastDueAccount]
    revenue: list[RevenueRow]
    mrr_history: list[MrrPoint]

    @property
    def mrr_max(self) -> int:
        return max([p.mrr_cents for p in self.mrr_history] + [1])


def _owner_name(subscription: Subscription) -> str:
    if subscription.tenant is not None:
        return subscription.tenant.name
    if subscription.user is not None:
        return subscription.user.email
    return subscription.stripe_customer_id or "—"


def _month_ends(now: datetime, months: int) -> list[tuple[str, datetime]]:
    ends = []
    year, month = now.year, now.month
    for _ in range(months):
        label = f"{year:04d}-{month:02d}"
        ends.append((label, now if not ends else _first_of_next(year, month)))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(ends))


def _first_of_next(year: int, month: int) -> datetime:
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=timezone.get_current_timezone())


def staff_dashboard(*, now: datetime | None = None, months: int = 12) -> Dashboard:
    """Revenue figures from the stored subscriptions and their history (no Stripe calls)."""
    now = now or timezone.now()
    stripe_subs = list(
        Subscription.objects.filter(source=Subscription.Source.STRIPE)
        .select_related("tenant", "user")
        .prefetch_related("changes")
    )
    paying = [s for s in stripe_subs if s.status in Subscription.PAYING]
    mrr = sum(s.mrr_cents for s in paying)
    by_plan = {plan.name: 0 for plan in plans.PAID_PLANS}
    for s in paying:
        by_plan[s.plan.name] = by_plan.get(s.plan.name, 0) + 1
    window_start = now - timedelta(days=30)
    churned = [
        s for s in stripe_subs
        if s.status == Subscription.Status.CANCELED and s.canceled_at
        and window_start <= s.canceled_at <= now
        and _was_paying_at(s, window_start)
    ]
    active_then = [s for s in stripe_subs if _was_paying_at(s, window_start)]
    open_due: dict[int, int] = {}
    for row in (
        Invoice.objects.filter(status="open", subscription__status="past_due")
        .values("subscription_id").annotate(total=Sum("amount_due"))
    ):
        open_due[row["subscription_id"]] = row["total"] or 0
    past_due = [
        PastDueAccount(
            subscription=s, owner_name=_owner_name(s), amount_due=open_due.get(s.pk, 0),
            past_due_since=s.past_due_since,
        )
        for s in stripe_subs if s.status == Subscription.Status.PAST_DUE
    ]
    revenue = sorted(
        (
            RevenueRow(
                owner_name=_owner_name(s), plan_name=s.plan.name, quantity=s.quantity,
                mrr_cents=s.mrr_cents,
            )
            for s in paying
        ),
        key=lambda row: (-row.mrr_cents, row.owner_name),
    )
    return Dashboard(
        mrr_cents=mrr,
        arr_cents=mrr * 12,
        paying_by_plan=by_plan,
        trials=sum(1 for s in stripe_subs if s.status == Subscription.Status.TRIALING),
        seats=sum(s.quantity for s in paying if s.plan.per_seat),
        churned_30d=len(churned),
        active_30d_ago=len(active_then),
        churn_rate=(len(churned) / len(active_then)) if active_then else 0.0,
        past_due=past_due,
        revenue=revenue,
        mrr_history=mrr_history(now=now, months=months),
    )


def _was_paying_at(subscription: Subscription, moment: datetime) -> bool:
    """Was the subscription paying at `moment`, by its stored history?"""
    state = None
    for change in subscription.changes.all():
        if change.at > moment:
            break
        state = change
    return state is not None and state.status in Subscription.PAYING


def mrr_history(*, now: datetime, months: int = 12) -> list[MrrPoint]:
    """MRR at the end of each of the last `months` months, replayed from stored changes."""
    changes = list(
        SubscriptionChange.objects.filter(
            subscription__source=Subscription.Source.STRIPE, at__lte=now
        ).order_by("at", "pk").values("subscription_id", "mrr_cents", "at")
    )
    points = []
    for label, end in _month_ends(now, months):
        latest: dict[int, int] = {}
        for change in changes:
            if change["at"] >= end and end != now:
                break
            latest[change["subscription_id"]] = change["mrr_cents"]
        points.append(MrrPoint(month=label, mrr_cents=sum(latest.values())))
    return points
