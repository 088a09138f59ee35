"""Writes of billing, one module per concern; the calls other modules make are re-exported here.

- limits: plan limits other apps check (learning's uploads, exercises and replies, tenants'
  joins)
- checkout, portal: Stripe Checkout and the Customer Portal
- webhooks: Stripe's events, stored once and processed asynchronously
- sync: storing Stripe's subscription objects; invoices: its invoices and the next preview
- seats: a school's Stripe quantity follows its students
- manual: plans staff assign by hand; catalogue: the Stripe Products and Prices
- emails: what the payer is told

Stripe is reached only through billing.integrations.stripe, and only when it is configured:
without `STRIPE_SECRET_KEY` every tenant is on the free plan (or a plan staff assigned) and
nothing here calls out. The staff figures are reads: billing.selectors.
"""

from billing.services.catalogue import catalogue_sync
from billing.services.checkout import checkout_return, checkout_start, plans_offered
from billing.services.invoices import invoice_preview
from billing.services.limits import (
    check_can_add_student,
    check_can_create_exercise,
    check_can_reply,
    check_upload_allowed,
)
from billing.services.links import student_plan_url, upgrade_url
from billing.services.manual import subscription_assign_manual
from billing.services.portal import portal_url
from billing.services.seats import seats_sync, seats_sync_schedule
from billing.services.sync import subscription_apply
from billing.services.webhooks import event_process, event_record_failure, webhook_receive

__all__ = [
    "catalogue_sync",
    "check_can_add_student",
    "check_can_create_exercise",
    "check_can_reply",
    "check_upload_allowed",
    "checkout_return",
    "checkout_start",
    "event_process",
    "event_record_failure",
    "invoice_preview",
    "plans_offered",
    "portal_url",
    "seats_sync",
    "seats_sync_schedule",
    "student_plan_url",
    "subscription_apply",
    "subscription_assign_manual",
    "upgrade_url",
    "webhook_receive",
]
