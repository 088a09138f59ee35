"""The plan catalogue: one list in code, each paid price named in Stripe by its `lookup_key`.

`sync_stripe_catalogue` creates or updates the Stripe Products and Prices from this module;
entitlements are computed from it locally, so nothing here needs Stripe at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GB = 1024**3


class Audience:
    TENANT = "tenant"  # a studio or school pays
    PERSON = "person"  # a student pays for themselves, across every tenant they belong to


@dataclass(frozen=True)
class Limits:
    """What a tenant may hold; None means no limit."""

    students: int | None
    exercises: int | None
    storage_bytes: int | None
    video_seconds: int | None


@dataclass(frozen=True)
class Price:
    lookup_key: str
    unit_amount: int  # cents
    interval: str  # "month" or "year"
    currency: str = "usd"

    @property
    def monthly_amount(self) -> float:
        """Cents per month per unit, for MRR."""
        return self.unit_amount / 12 if self.interval == "year" else float(self.unit_amount)


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    audience: str
    description: str
    limits: Limits
    prices: tuple[Price, ...] = ()
    per_seat: bool = False  # quantity follows the number of active students
    trial_days: int = 0
    features: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_paid(self) -> bool:
        return bool(self.prices)

    def price(self, lookup_key: str) -> Price | None:
        return next((p for p in self.prices if p.lookup_key == lookup_key), None)


FREE = Plan(
    code="free",
    name="Free",
    audience=Audience.TENANT,
    description="A small studio to try Practika: 3 students, 10 exercises, 2 GB.",
    limits=Limits(students=3, exercises=10, storage_bytes=2 * GB, video_seconds=5 * 60),
)
TEACHER = Plan(
    code="teacher",
    name="Teacher",
    audience=Audience.TENANT,
    description="A teacher's studio with room to grow.",
    limits=Limits(students=100, exercises=None, storage_bytes=200 * GB, video_seconds=30 * 60),
    prices=(
        Price(lookup_key="practika_teacher_monthly", unit_amount=999, interval="month"),
        Price(lookup_key="practika_teacher_yearly", unit_amount=9990, interval="year"),
    ),
    trial_days=14,
)
STUDENT = Plan(
    code="student",
    name="Student",
    audience=Audience.PERSON,
    description="Longer recordings, unlimited attempts and analysis, in every studio you join.",
    # A person's plan does not change a tenant's limits; see entitlements_for_student.
    limits=FREE.limits,
    prices=(Price(lookup_key="practika_student_monthly", unit_amount=499, interval="month"),),
    features=frozenset({"long_recordings", "unlimited_attempts", "analysis"}),
)
SCHOOL = Plan(
    code="school",
    name="School",
    audience=Audience.TENANT,
    description="$5 per active student per month; every teacher included.",
    # Students are not capped: the seat count follows them and is billed.
    limits=Limits(students=None, exercises=None, storage_bytes=2000 * GB, video_seconds=60 * 60),
    prices=(Price(lookup_key="practika_school_seat_monthly", unit_amount=500, interval="month"),),
    per_seat=True,
    trial_days=14,
)

PLANS: dict[str, Plan] = {plan.code: plan for plan in (FREE, TEACHER, STUDENT, SCHOOL)}
PAID_PLANS: tuple[Plan, ...] = (TEACHER, STUDENT, SCHOOL)

# Student-plan recording length and attempts, across tenants (free students: the tenant's).
STUDENT_PREMIUM_VIDEO_SECONDS = 30 * 60
FREE_ATTEMPTS_PER_EXERCISE = 5


def plan_for_code(code: str) -> Plan:
    return PLANS.get(code, FREE)


def plan_for_lookup_key(lookup_key: str | None) -> tuple[Plan, Price] | None:
    for plan in PAID_PLANS:
        price = plan.price(lookup_key or "")
        if price is not None:
            return plan, price
    return None


def all_prices() -> list[tuple[Plan, Price]]:
    return [(plan, price) for plan in PAID_PLANS for price in plan.prices]
