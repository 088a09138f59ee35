"""Stripe's failures reach Practika as billing's own errors (billing.integrations.stripe turns
the SDK's into them): a retry-worthy StripeUnavailable, or a final StripeFailed; pages say so."""

from __future__ import annotations

import pytest

from billing.errors import BillingErrorCode, StripeFailed, StripeUnavailable
from billing.integrations import stripe as stripe_api
from tests.conftest import client_for


def _answer_with(stripe_server, monkeypatch, status: int, kind: str) -> None:
    body = {"error": {"type": kind, "message": f"stand-in {status}"}}
    monkeypatch.setattr(stripe_server, "answer", lambda method, path, params: (status, body))


@pytest.mark.parametrize(
    ("status", "kind", "error", "code"),
    [
        (400, "invalid_request_error", StripeFailed, BillingErrorCode.STRIPE_REFUSED),
        (401, "invalid_request_error", StripeFailed, BillingErrorCode.STRIPE_REFUSED),
        (429, "invalid_request_error", StripeUnavailable, BillingErrorCode.STRIPE_UNAVAILABLE),
        (500, "api_error", StripeUnavailable, BillingErrorCode.STRIPE_UNAVAILABLE),
    ],
)
def test_the_sdks_errors_become_ours(stripe_server, monkeypatch, status, kind, error, code):
    _answer_with(stripe_server, monkeypatch, status, kind)

    with pytest.raises(StripeFailed) as raised:
        stripe_api.subscription_get("sub_anything")

    assert type(raised.value) is error
    assert raised.value.code == code
    assert f"stand-in {status}" in raised.value.detail
    assert not isinstance(raised.value.__cause__, StripeFailed)  # the SDK's error, kept as cause


def test_an_unknown_product_is_none_not_an_error(stripe_server):
    assert stripe_api.product_get("practika_nothing") is None


def test_stripe_down_at_checkout_sends_the_owner_back_with_a_message(
    school_a, stripe_server, monkeypatch
):
    stripe_server.seed_catalogue()
    _answer_with(stripe_server, monkeypatch, 500, "api_error")

    response = client_for(school_a.owner, school_a.host).post(
        "/manage/billing/checkout/", {"lookup_key": "practika_school_seat_monthly"}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("/manage/billing/")
    assert "Stripe could not be reached. Please try again in a minute." in (
        response.content.decode()
    )


def test_billing_tasks_retry_transient_stripe_errors_only():
    from billing import tasks

    for task in (tasks.process_stripe_event, tasks.sync_seats):
        assert task.autoretry_for == (StripeUnavailable,)
        assert task.acks_late and task.max_retries == 8
