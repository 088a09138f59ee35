"""Outgoing Stripe calls made by the real stripe SDK, recorded by a local server: Checkout,
the return from Checkout, the Portal, seat updates, the invoice preview and the catalogue."""

from __future__ import annotations

from django.core.cache import cache
from django.core.management import call_command

from billing import plans, services
from billing.models import BillingCustomer, Subscription
from tenants import services as tenant_services
from tenants.models import Membership, Role, User
from tests.billing.conftest import subscription_obj
from tests.conftest import PASSWORD, client_for


def test_upgrade_opens_checkout_with_the_documented_parameters(school_a, stripe_server):
    stripe_server.seed_catalogue()

    response = client_for(school_a.owner, school_a.host).post(
        "/manage/billing/checkout/", {"lookup_key": "practika_school_seat_monthly"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.test/")
    [call] = stripe_server.calls("POST", "/v1/checkout/sessions")
    params = call.params
    assert params["mode"] == "subscription"
    assert params["line_items[0][price]"] == "price_practika_school_seat_monthly"
    assert params["line_items[0][quantity]"] == "2"  # School A's two students
    assert params["subscription_data[trial_period_days]"] == "14"
    assert params["client_reference_id"] == str(school_a.tenant.public_id)
    assert params["metadata[practika_tenant]"] == str(school_a.tenant.public_id)
    assert params["subscription_data[metadata][practika_tenant]"] == str(school_a.tenant.public_id)
    assert params["customer_email"] == school_a.owner.email
    assert params["success_url"].endswith(
        "/manage/billing/return/?session_id={CHECKOUT_SESSION_ID}"
    )


def test_a_studio_cannot_buy_the_school_plan_and_an_unknown_price_is_refused(
    school_a, stripe_server
):
    stripe_server.seed_catalogue()
    client = client_for(school_a.owner, school_a.host)

    wrong = client.post("/manage/billing/checkout/", {"lookup_key": "practika_teacher_monthly"},
                        follow=True)
    unknown = client.post("/manage/billing/checkout/", {"lookup_key": "nope"}, follow=True)

    assert "not offered here" in wrong.content.decode()
    assert "Choose one of the plans" in unknown.content.decode()
    assert not stripe_server.calls("POST", "/v1/checkout/sessions")


def test_returning_from_checkout_shows_the_new_plan_at_once(school_a, stripe_server):
    subscription = subscription_obj(
        "sub_new", tenant=school_a.tenant, status="trialing", quantity=2,
        lookup_key="practika_school_seat_monthly", customer="cus_new", item_id="si_new",
    )
    stripe_server.sessions["cs_done"] = {
        "id": "cs_done", "object": "checkout.session", "status": "complete",
        "customer": "cus_new", "subscription": subscription,
        "metadata": {"practika_tenant": str(school_a.tenant.public_id)},
    }
    client = client_for(school_a.owner, school_a.host)

    response = client.get("/manage/billing/return/?session_id=cs_done", follow=True)

    [call] = stripe_server.calls("GET", "/v1/checkout/sessions/cs_done")
    assert call.params["expand[0]"] == "subscription"
    page = response.content.decode()
    assert response.context["entitlements"].plan == plans.SCHOOL
    assert "You are on the School plan." in page and "trial has started" in page
    assert BillingCustomer.objects.get(tenant=school_a.tenant).stripe_customer_id == "cus_new"


def test_another_tenants_checkout_session_is_refused(school_a, school_b, stripe_server):
    stripe_server.sessions["cs_b"] = {
        "id": "cs_b", "object": "checkout.session", "status": "complete", "customer": "cus_b",
        "subscription": subscription_obj("sub_b", tenant=school_b.tenant),
        "metadata": {"practika_tenant": str(school_b.tenant.public_id)},
    }

    response = client_for(school_a.owner, school_a.host).get(
        "/manage/billing/return/?session_id=cs_b", follow=True
    )

    assert "belongs to someone else" in response.content.decode()
    assert not Subscription.objects.filter(stripe_subscription_id="sub_b").exists()


def test_manage_billing_opens_the_customer_portal(school_a, stripe_server):
    BillingCustomer.objects.create(stripe_customer_id="cus_portal", tenant=school_a.tenant)

    response = client_for(school_a.owner, school_a.host).post("/manage/billing/portal/")

    assert response["Location"] == "https://billing.stripe.test/p/session/bps_1"
    [call] = stripe_server.calls("POST", "/v1/billing_portal/sessions")
    assert call.params["customer"] == "cus_portal"
    assert call.params["return_url"].endswith("/manage/billing/")


def test_the_billing_page_previews_the_next_invoice(school_a, stripe_server):
    Subscription.objects.create(
        stripe_subscription_id="sub_prev", stripe_customer_id="cus_prev", stripe_item_id="si_p",
        tenant=school_a.tenant, plan_code="school", status="active", quantity=3,
        unit_amount=500, stripe_version=1,
    )

    page = client_for(school_a.owner, school_a.host).get("/manage/billing/")

    [call] = stripe_server.calls("POST", "/v1/invoices/create_preview")
    assert call.params == {"customer": "cus_prev", "subscription": "sub_prev"}
    html = page.content.decode()
    assert "$15.00" in html and 'data-testid="seats">3' in html


def test_the_student_plan_checkout_bills_the_person(school_a, stripe_server):
    stripe_server.seed_catalogue()

    response = client_for(school_a.student, school_a.host).post("/me/plan/checkout/")

    assert response.status_code == 302
    [call] = stripe_server.calls("POST", "/v1/checkout/sessions")
    assert call.params["line_items[0][price]"] == "price_practika_student_monthly"
    assert call.params["line_items[0][quantity]"] == "1"
    assert call.params["metadata[practika_user]"] == str(school_a.student.public_id)
    assert "subscription_data[trial_period_days]" not in call.params


def test_seat_changes_update_stripe_once_per_window_with_proration(
    school_a, stripe_server, monkeypatch, django_capture_on_commit_callbacks
):
    from billing import tasks

    scheduled = []
    monkeypatch.setattr(
        tasks.sync_seats, "apply_async", lambda args, countdown: scheduled.append(args)
    )
    Subscription.objects.create(
        stripe_subscription_id="sub_seats", stripe_item_id="si_seats", tenant=school_a.tenant,
        plan_code="school", status="active", quantity=2, unit_amount=500, stripe_version=1,
    )
    tenant = school_a.tenant

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            user = User.objects.create_user(email=f"joiner{n}@example.com", password=PASSWORD)
            tenant_services.join_with_code(tenant=tenant, code=tenant.join_code, user=user)
    assert scheduled == [[tenant.pk]]  # three joins, one update queued

    assert services.seats_sync(tenant_id=tenant.pk) == 5
    [call] = stripe_server.calls("POST", "/v1/subscription_items/si_seats")
    assert call.params == {"quantity": "5", "proration_behavior": "create_prorations"}

    leaving = Membership.objects.get(tenant=tenant, user__email="joiner0@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.membership_remove(membership=leaving, actor=school_a.owner)
    assert scheduled == [[tenant.pk], [tenant.pk]]  # the window had closed: a new update
    services.seats_sync(tenant_id=tenant.pk)

    calls = stripe_server.calls("POST", "/v1/subscription_items/si_seats")
    assert [c.params["quantity"] for c in calls] == ["5", "4"]
    assert Subscription.objects.get(stripe_subscription_id="sub_seats").quantity == 4
    assert services.seats_sync(tenant_id=tenant.pk) == 4  # in step: no call
    assert len(stripe_server.calls("POST", "/v1/subscription_items/")) == 2


def test_teachers_joining_do_not_touch_seats(
    school_a, stripe_server, monkeypatch, django_capture_on_commit_callbacks
):
    from billing import tasks

    scheduled = []
    monkeypatch.setattr(tasks.sync_seats, "apply_async", lambda **kw: scheduled.append(kw))
    cache.clear()  # no debounce key from an earlier test may hide a schedule
    Subscription.objects.create(
        stripe_subscription_id="sub_t", stripe_item_id="si_t", tenant=school_a.tenant,
        plan_code="school", status="active", quantity=2, unit_amount=500, stripe_version=1,
    )
    invitation = tenant_services.invitation_create(
        tenant=school_a.tenant, email="newteacher@example.com", role=Role.TEACHER,
        actor=school_a.owner,
    )
    user = User.objects.create_user(email="newteacher@example.com", password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.invitation_accept(
            token=invitation.token, tenant=school_a.tenant, user=user
        )

    assert Membership.objects.get(user=user).role == Role.TEACHER
    assert scheduled == []

    # Positive control: a student joining the same school does schedule a seat update, so
    # the empty list above is the teacher's doing, not a debounce key left by another test.
    invitation = tenant_services.invitation_create(
        tenant=school_a.tenant, email="newstudent@example.com", role=Role.STUDENT,
        actor=school_a.owner,
    )
    student = User.objects.create_user(email="newstudent@example.com", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.invitation_accept(
            token=invitation.token, tenant=school_a.tenant, user=student
        )
    assert len(scheduled) == 1


def test_catalogue_sync_creates_then_changes_nothing(db, stripe_server):
    call_command("sync_stripe_catalogue")
    first_posts = [r.path for r in stripe_server.requests if r.method == "POST"]
    call_command("sync_stripe_catalogue")
    second_posts = [r.path for r in stripe_server.requests if r.method == "POST"][
        len(first_posts):
    ]

    assert first_posts.count("/v1/products") == 3
    assert first_posts.count("/v1/prices") == 4
    assert second_posts == []
    seat = stripe_server.prices["practika_school_seat_monthly"]
    assert (seat["unit_amount"], seat["recurring"]["interval"]) == (500, "month")
    created = [r.params for r in stripe_server.requests if r.path == "/v1/prices"
               and r.method == "POST"]
    teacher_yearly = next(p for p in created if p["lookup_key"] == "practika_teacher_yearly")
    assert teacher_yearly["transfer_lookup_key"] == "true"
    assert teacher_yearly["recurring[interval]"] == "year"
    assert teacher_yearly["product"] == "practika_teacher"


def test_a_changed_price_is_replaced_under_the_same_lookup_key(db, stripe_server):
    stripe_server.seed_catalogue()
    stripe_server.products.update(
        {f"practika_{p.code}": {"id": f"practika_{p.code}", "name": f"Practika {p.name}",
                                "description": p.description, "active": True}
         for p in plans.PAID_PLANS}
    )
    for price in stripe_server.prices.values():
        price["product"] = "practika_" + price["lookup_key"].split("_")[1]
    stripe_server.prices["practika_student_monthly"]["unit_amount"] = 399

    call_command("sync_stripe_catalogue")

    posts = [r for r in stripe_server.requests if r.method == "POST"]
    assert [(r.path, r.params["lookup_key"]) for r in posts] == [
        ("/v1/prices", "practika_student_monthly")
    ]
    assert posts[0].params["unit_amount"] == "499"
