"""Plan limits, called by learning and, through billing.policies, by tenants.

Each check raises LimitReached with a message that names the limit and where to upgrade.
"""

from __future__ import annotations

from billing import selectors
from billing.errors import BillingErrorCode, LimitReached
from billing.plans import GB
from billing.services.links import student_plan_url, upgrade_url
from tenants.models import Tenant, User


def _tenant(tenant) -> Tenant:
    """The Tenant row, also when given the stand-in that `schema_context` puts on the connection."""
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=tenant.schema_name)


def _refuse_when_read_only(tenant: Tenant, entitlements: selectors.TenantEntitlements) -> None:
    if entitlements.read_only:
        raise LimitReached(
            f"Payment for {tenant.name} is overdue, so nothing new can be created until it is "
            "paid. Everything already here stays readable.",
            code=BillingErrorCode.PAYMENT_OVERDUE,
            upgrade_url=upgrade_url(tenant),
        )


def check_can_add_student(*, tenant: Tenant, count: int = 1) -> None:
    """Raise LimitReached if `tenant` cannot take `count` more students on its plan."""
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_tenant(tenant)
    _refuse_when_read_only(tenant, entitlements)
    limit = entitlements.limits.students
    if limit is not None and selectors.student_count(tenant=tenant) + count > limit:
        raise LimitReached(
            f"{tenant.name} has reached the {entitlements.plan.name} plan's limit of {limit} "
            "students. The owner can upgrade to add more.",
            code=BillingErrorCode.STUDENT_LIMIT,
            upgrade_url=upgrade_url(tenant),
        )


def check_can_create_exercise(*, tenant: Tenant, current_count: int) -> None:
    """Raise LimitReached if a tenant holding `current_count` exercises cannot add one."""
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_tenant(tenant)
    _refuse_when_read_only(tenant, entitlements)
    limit = entitlements.limits.exercises
    if limit is not None and current_count >= limit:
        raise LimitReached(
            f"The {entitlements.plan.name} plan allows {limit} exercises and this studio has "
            f"{current_count}. Existing exercises stay available; upgrade to create more.",
            code=BillingErrorCode.EXERCISE_LIMIT,
            upgrade_url=upgrade_url(tenant),
        )


def check_upload_allowed(
    *, tenant: Tenant, size_bytes: int, duration_s: float | None = None, user: User | None = None
) -> None:
    """Raise LimitReached if an upload of this size and length would break a plan limit."""
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_tenant(tenant)
    _refuse_when_read_only(tenant, entitlements)
    limits = entitlements.limits
    if limits.storage_bytes is not None:
        used = selectors.storage_used(tenant=tenant)
        if used + max(0, int(size_bytes)) > limits.storage_bytes:
            raise LimitReached(
                f"This upload would go past the {entitlements.plan.name} plan's storage limit "
                f"of {limits.storage_bytes / GB:g} GB ({used / GB:.2f} GB used).",
                code=BillingErrorCode.STORAGE_LIMIT,
                upgrade_url=upgrade_url(tenant),
            )
    seconds = limits.video_seconds
    student = selectors.entitlements_for_student(user) if user is not None else None
    if seconds is not None and student is not None and student.video_seconds is not None:
        seconds = max(seconds, student.video_seconds)
    if seconds is not None and duration_s is not None and duration_s > seconds:
        raise LimitReached(
            f"Recordings on the {entitlements.plan.name} plan can be up to {seconds // 60} "
            f"minutes long; this one is {duration_s / 60:.1f} minutes.",
            code=BillingErrorCode.VIDEO_LENGTH_LIMIT,
            upgrade_url=upgrade_url(tenant) if student is None else student_plan_url(tenant),
        )


def check_can_reply(*, tenant: Tenant, user: User, attempts_so_far: int) -> None:
    """Raise LimitReached if `user`, with `attempts_so_far` attempts at one exercise, has none left.

    The attempts limit is the person's own (free students: FREE_ATTEMPTS_PER_EXERCISE; the
    Student plan has none), the same in every tenant they belong to.
    """
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_student(user)
    limit = entitlements.attempts_per_exercise
    if limit is not None and attempts_so_far >= limit:
        raise LimitReached(
            f"The {entitlements.plan.name} plan allows {limit} attempts at each exercise and "
            f"you have sent {attempts_so_far}. Your attempts so far stay here; the Student plan "
            "gives unlimited attempts.",
            code=BillingErrorCode.ATTEMPTS_LIMIT,
            upgrade_url=student_plan_url(tenant),
        )
