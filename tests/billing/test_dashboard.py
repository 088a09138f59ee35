"""The staff billing dashboard: figures computed exactly from stored subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing import selectors
from billing.models import Invoice, Subscription, SubscriptionChange, mrr_cents
from tenants.models import User
from tests.conftest import PASSWORD, client_for, mfa_client_for

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def _sub(sub_id, *, status, plan, amount, quantity=1, interval="month", history=(), **fields):
    subscription = Subscription.objects.create(
        stripe_subscription_id=sub_id, status=status, plan_code=plan, unit_amount=amount,
        quantity=quantity, interval=interval, stripe_version=1, **fields,
    )
    for days_ago, state in history:
        SubscriptionChange.objects.create(
            subscription=subscription, status=state, plan_code=plan, quantity=quantity,
            mrr_cents=(
                mrr_cents(amount, quantity, interval) if state in ("active", "past_due") else 0
            ),
            at=NOW - timedelta(days=days_ago),
        )
    return subscription


def _known_subscriptions(schools):
    a, b = schools.a.tenant, schools.b.tenant
    _sub("sub_school_a", status="active", plan="school", amount=500, quantity=10, tenant=a,
         history=[(90, "active")])
    past_due = _sub("sub_school_b", status="past_due", plan="school", amount=500, quantity=4,
                    tenant=b, history=[(60, "active"), (3, "past_due")],
                    past_due_since=NOW - timedelta(days=3))
    Invoice.objects.create(stripe_invoice_id="in_b", subscription=past_due, status="open",
                           amount_due=2000)
    student = User.objects.create_user(email="paying@example.com", password=PASSWORD)
    _sub("sub_student", status="active", plan="student", amount=499, user=student,
         history=[(40, "active")])
    _sub("sub_yearly", status="active", plan="teacher", amount=9990, interval="year",
         history=[(10, "active")])
    _sub("sub_trial", status="trialing", plan="teacher", amount=999, history=[(5, "trialing")])
    _sub("sub_churned", status="canceled", plan="teacher", amount=999,
         canceled_at=NOW - timedelta(days=10), history=[(100, "active"), (10, "canceled")])
    _sub("sub_old_churn", status="canceled", plan="teacher", amount=999,
         canceled_at=NOW - timedelta(days=45), history=[(200, "active"), (45, "canceled")])
    Subscription.objects.create(  # assigned by staff: no revenue
        source="manual", status="active", plan_code="teacher", unit_amount=999,
    )


def test_dashboard_figures_are_exact(schools, db):
    _known_subscriptions(schools)

    dashboard = selectors.staff_dashboard(now=NOW)

    # 10 x 500 + 4 x 500 + 499 + 9990/12 (833, half up) = 8332 cents a month
    assert dashboard.mrr_cents == 5000 + 2000 + 499 + 833
    assert dashboard.arr_cents == dashboard.mrr_cents * 12
    assert dashboard.paying_by_plan == {"Teacher": 1, "Student": 1, "School": 2}
    assert dashboard.trials == 1
    assert dashboard.seats == 14
    # Paying 30 days ago: school A, school B, the student, the churned teacher → 1 of 4 left.
    assert (dashboard.churned_30d, dashboard.active_30d_ago) == (1, 4)
    assert dashboard.churn_rate == 0.25
    [late] = dashboard.past_due
    assert (late.owner_name, late.amount_due) == (schools.b.tenant.name, 2000)
    assert dashboard.revenue[0].owner_name == schools.a.tenant.name
    assert dashboard.revenue[0].mrr_cents == 5000
    history = {p.month: p.mrr_cents for p in dashboard.mrr_history}
    assert history["2025-06"] == dashboard.mrr_cents
    # End of March: school A (5000) and both churned teachers (999 each) were paying.
    assert history["2025-03"] == 5000 + 999 + 999
    assert history["2024-07"] == 0


def test_the_dashboard_page_is_for_staff_only(schools, db):
    _known_subscriptions(schools)
    staff = User.objects.create_user(email="staff@practika.test", password=PASSWORD,
                                     is_staff=True)

    page = mfa_client_for(staff, "practika.test").get("/staff/billing/")
    refused = client_for(schools.a.owner, "practika.test").get("/staff/billing/")

    assert page.status_code == 200 and refused.status_code == 403
    html = page.content.decode()
    assert 'data-testid="trials">1<' in html and 'data-testid="seats">14<' in html
    assert "$20.00" in html  # school B's open invoice
