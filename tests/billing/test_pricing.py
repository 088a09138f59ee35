"""Plans and prices are visible whether or not Stripe is configured: the public pricing page,
a school's billing page and a student's plan page all show the catalogue (billing/plans.py),
and without Stripe keys the upgrade button says billing is not set up here (never a 500)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from billing import plans
from tests.conftest import client_for

NOT_SET_UP = "Billing is not set up on this server"


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("stripe_key", ["", "sk_test_practika"])
def test_the_public_pricing_page_shows_every_plan_with_prices_and_limits(
    public_site, settings, stripe_key
):
    settings.STRIPE_SECRET_KEY = stripe_key

    page = Client(HTTP_HOST=public_site).get("/pricing/")

    assert page.status_code == 200
    text = _text(page)
    for name, price, per in [
        ("Free", "$0", "for ever"),
        ("Teacher", "$9.99", "per month"),
        ("Student", "$4.99", "per month"),
        ("School", "$5", "per student per month"),
    ]:
        assert f"{name} {price} {per}" in text, (name, text)
    # Limits, from the catalogue
    assert "Up to 3 students" in text and "Up to 10 exercises" in text
    assert "200 GB of video storage" in text and "2 TB of video storage" in text
    assert (
        f"Unlimited attempts at each exercise (free students: {plans.FREE_ATTEMPTS_PER_EXERCISE})"
        in text
    )
    assert "Or $99.90 per year" in text and "14-day free trial" in text
    assert (NOT_SET_UP in text) == (not stripe_key)


def test_every_page_links_the_pricing_page_and_the_api_docs(public_site, school_a):
    home = Client(HTTP_HOST=public_site).get("/").content.decode()
    inbox = client_for(school_a.teacher, school_a.host).get("/teach/inbox/").content.decode()

    for html in (home, inbox):
        assert re.search(r'href="[^"]*/pricing/"', html)
        assert 'href="/api/docs/"' in html


def test_a_school_without_stripe_sees_its_plans_and_a_button_that_says_why_it_is_off(
    school_a, settings
):
    settings.STRIPE_SECRET_KEY = ""
    owner = client_for(school_a.owner, school_a.host)

    page = owner.get("/manage/billing/")

    assert page.status_code == 200
    html = page.content.decode()
    text = _text(page)
    # The plan in use and the one a school can buy, with what they cost and give
    assert "Free Your plan $0 for ever" in text
    assert "School $5 per student per month" in text
    assert "Teacher $9.99" not in text  # studios buy Teacher; a school is offered School
    assert re.search(r"<button[^>]*disabled[^>]*>Upgrade to School</button>", html)
    assert NOT_SET_UP in text
    assert re.search(r'href="[^"]*/pricing/">Pricing</a>', html)

    # And asking for checkout anyway is answered with the reason, not an error page
    response = owner.post(
        "/manage/billing/checkout/", {"lookup_key": "practika_school_seat_monthly"}
    )
    assert response.status_code == 302
    followed = owner.get(response["Location"])
    assert "not configured on this server" in _text(followed) or NOT_SET_UP in _text(followed)


def test_a_student_without_stripe_sees_the_student_plan_and_why_it_cannot_be_bought(
    school_a, settings
):
    settings.STRIPE_SECRET_KEY = ""

    page = client_for(school_a.student, school_a.host).get("/me/plan/")

    assert page.status_code == 200
    text = _text(page)
    assert "Student $4.99 per month" in text
    assert "Recordings up to 30 minutes" in text
    assert NOT_SET_UP in text
    assert re.search(
        r"<button[^>]*disabled[^>]*>Upgrade to Student</button>", page.content.decode()
    )
