"""Billing lives in the public schema: customers, subscriptions, invoices and webhook events.

Thin copies of Stripe's objects, holding only what entitlements, pages and the staff dashboard
read. Stripe stays the source of truth; these rows are updated from its webhooks (and from a
fresh read on return from Checkout).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from billing import plans

OWNER_XOR = Q(tenant__isnull=False, user__isnull=True) | Q(tenant__isnull=True, user__isnull=False)


class BillingCustomer(models.Model):
    """The Stripe customer of one tenant (studio, school) or one person (Student plan)."""

    stripe_customer_id = models.CharField(max_length=255, unique=True)
    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, null=True, blank=True,
        related_name="billing_customer",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="billing_customer",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=OWNER_XOR, name="customer_one_owner")]

    def __str__(self) -> str:
        return self.stripe_customer_id


class Subscription(models.Model):
    """A subscription of a tenant or a person, as last seen from Stripe (or set by staff)."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete (expired)"
        PAUSED = "paused", "Paused"

    class Source(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        MANUAL = "manual", "Assigned by staff"

    # Statuses that grant the plan's entitlements (past_due within the grace period too).
    GRANTING = frozenset({Status.TRIALING, Status.ACTIVE, Status.PAST_DUE})
    # Statuses that bring in money, for MRR.
    PAYING = frozenset({Status.ACTIVE, Status.PAST_DUE})

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STRIPE)
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_item_id = models.CharField(max_length=255, blank=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, null=True, blank=True,
        related_name="subscriptions",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="subscriptions",
    )
    plan_code = models.CharField(max_length=20, default=plans.FREE.code)
    price_lookup_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.PositiveIntegerField(default=0)  # cents
    interval = models.CharField(max_length=10, default="month")
    currency = models.CharField(max_length=3, default="usd")
    cancel_at_period_end = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # The Stripe `created` time (seconds) of the newest event or read applied to this row: an
    # older event delivered late never overwrites newer state.
    stripe_version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Orphans (neither owner yet) are allowed until checkout.session.completed links them.
            models.CheckConstraint(
                condition=~Q(tenant__isnull=False, user__isnull=False), name="subscription_owner"
            ),
            models.CheckConstraint(
                condition=Q(source="manual") | Q(stripe_subscription_id__isnull=False),
                name="subscription_stripe_id_unless_manual",
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["stripe_customer_id"])]

    def __str__(self) -> str:
        return f"{self.plan_code} · {self.status} · {self.stripe_subscription_id or 'manual'}"

    # The tenant's past-due banner is cached (billing.chrome): dropped however the row is saved.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from billing import chrome

        chrome.forget(tenant_id=self.tenant_id)

    def delete(self, *args, **kwargs):
        from billing import chrome

        chrome.forget(tenant_id=self.tenant_id)
        return super().delete(*args, **kwargs)

    @property
    def plan(self) -> plans.Plan:
        return plans.plan_for_code(self.plan_code)

    @property
    def mrr_cents(self) -> int:
        """Monthly recurring revenue in cents (0 unless paying: trials bring in nothing yet)."""
        if self.status not in self.PAYING or self.source == self.Source.MANUAL:
            return 0
        return mrr_cents(self.unit_amount, self.quantity, self.interval)


def mrr_cents(unit_amount: int, quantity: int, interval: str) -> int:
    monthly = unit_amount * quantity
    # Yearly prices count a twelfth a month, rounded half up (9990 → 833).
    return (monthly + 6) // 12 if interval == "year" else monthly


class SubscriptionChange(models.Model):
    """One state a subscription was in from `at` on: the history behind churn and MRR charts."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="changes"
    )
    status = models.CharField(max_length=20, choices=Subscription.Status.choices)
    plan_code = models.CharField(max_length=20)
    quantity = models.PositiveIntegerField()
    mrr_cents = models.PositiveIntegerField()
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.plan_code} {self.status} x{self.quantity}"


class Invoice(models.Model):
    """An invoice as last seen from Stripe (paid or failed), for the invoice list and dunning."""

    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    stripe_version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id


class WebhookEvent(models.Model):
    """A Stripe event, stored once by its id before anything is done with it."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_created = models.BigIntegerField()
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["type", "received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"
