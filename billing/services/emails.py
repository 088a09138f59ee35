"""Emails to the payer: a failed payment, a trial about to end."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from billing.models import Subscription
from billing.services.links import upgrade_url
from tenants import hosts
from tenants.models import ADMIN_ROLES, Membership


def _recipients(subscription: Subscription) -> list[str]:
    if subscription.user_id:
        return [subscription.user.email]
    if subscription.tenant_id:
        return list(
            Membership.objects.filter(tenant_id=subscription.tenant_id, role__in=ADMIN_ROLES)
            .values_list("user__email", flat=True)
        )
    return []


def _email(subscription_pk: int, *, subject: str, template: str) -> None:
    subscription = Subscription.objects.select_related("tenant", "user").get(pk=subscription_pk)
    recipients = _recipients(subscription)
    if not recipients:
        return
    tenant = subscription.tenant
    context = {
        "subscription": subscription,
        "tenant": tenant,
        "grace_days": settings.PRACTIKA_BILLING_GRACE_DAYS,
        "billing_url": upgrade_url(tenant) if tenant else hosts.public_url("/"),
    }
    send_mail(
        subject=subject, message=render_to_string(template, context), from_email=None,
        recipient_list=recipients,
    )


def email_past_due(subscription_pk: int) -> None:
    _email(
        subscription_pk, subject="Your Practika payment failed",
        template="billing/email/past_due.txt",
    )


def email_trial_ending(subscription_pk: int) -> None:
    _email(
        subscription_pk, subject="Your Practika trial ends soon",
        template="billing/email/trial_will_end.txt",
    )
