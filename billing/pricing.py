"""What each plan costs and gives, in words, read from the plan catalogue (billing/plans.py):
the public pricing page, a tenant's billing page and a student's plan page all show these
cards, so a price or a limit is written once, whether or not Stripe is configured."""

from __future__ import annotations

from dataclasses import dataclass

from billing import plans


@dataclass(frozen=True)
class PlanCard:
    code: str
    name: str
    price: str  # "$9.99"
    per: str  # "per month", "per student per month", "" for Free
    audience: str  # who buys it
    description: str
    lines: tuple[str, ...]
    prices: tuple[plans.Price, ...]
    trial_days: int


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}".replace(".00", "")


def _limit(value: int | None, one: str, many: str, unlimited: str) -> str:
    if value is None:
        return unlimited
    return f"Up to {value:,} {one if value == 1 else many}"


def _storage(value: int | None) -> str:
    if value is None:
        return "Unlimited storage"
    gigabytes = value / plans.GB
    if gigabytes >= 1000:
        return f"{gigabytes / 1000:g} TB of video storage"
    return f"{gigabytes:g} GB of video storage"


def _tenant_lines(plan: plans.Plan) -> list[str]:
    limits = plan.limits
    lines = [
        _limit(limits.students, "student", "students", "Unlimited students")
        + (" (billed per active student)" if plan.per_seat else ""),
        _limit(limits.exercises, "exercise", "exercises", "Unlimited exercises"),
        _storage(limits.storage_bytes),
    ]
    if limits.video_seconds is not None:
        lines.append(f"Recordings up to {limits.video_seconds // 60} minutes")
    return lines


def plan_cards(*, audiences: tuple[str, ...] = (plans.Audience.TENANT, plans.Audience.PERSON)):
    """Free, Teacher, Student and School (in that order), as cards for a page."""
    cards = []
    for plan in (plans.FREE, plans.TEACHER, plans.STUDENT, plans.SCHOOL):
        if plan.audience not in audiences:
            continue
        monthly = next((p for p in plan.prices if p.interval == "month"), None)
        yearly = next((p for p in plan.prices if p.interval == "year"), None)
        if plan is plans.STUDENT:
            audience = "For a student, in every studio and school they join"
            lines = [
                f"Recordings up to {plans.STUDENT_PREMIUM_VIDEO_SECONDS // 60} minutes",
                "Unlimited attempts at each exercise "
                f"(free students: {plans.FREE_ATTEMPTS_PER_EXERCISE})",
                "Timing and pitch analysis of every attempt",
            ]
        else:
            audience = {
                "free": "For a teacher trying Practika",
                "teacher": "For a teacher's studio",
                "school": "For a school: every teacher included",
            }[plan.code]
            lines = _tenant_lines(plan)
            if plan is plans.FREE:
                lines.append(
                    f"Students get {plans.FREE_ATTEMPTS_PER_EXERCISE} attempts at each exercise"
                )
        if yearly is not None:
            lines.append(f"Or {_dollars(yearly.unit_amount)} per year")
        if plan.trial_days:
            lines.append(f"{plan.trial_days}-day free trial")
        cards.append(
            PlanCard(
                code=plan.code,
                name=plan.name,
                price=_dollars(monthly.unit_amount) if monthly else "$0",
                per=("per student per month" if plan.per_seat else "per month")
                if monthly
                else "for ever",
                audience=audience,
                description=plan.description,
                lines=tuple(lines),
                prices=plan.prices,
                trial_days=plan.trial_days,
            )
        )
    return cards
