"""Send correctly signed sample Stripe events to a local webhook endpoint (development).

    python manage.py send_sample_stripe_events --tenant <slug> [--url http://localhost:8000/...]

The events walk one subscription through trial, activation, a failed and a paid invoice, signed
with STRIPE_WEBHOOK_SECRET exactly as Stripe signs them (`t=…,v1=…`).
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing import plans
from billing.integrations import stripe as stripe_api
from tenants import hosts
from tenants.models import Tenant


def _subscription(sub_id: str, tenant: Tenant, plan: plans.Plan, status: str, quantity: int):
    price = plan.prices[0]
    return {
        "id": sub_id, "object": "subscription", "customer": f"cus_sample_{tenant.slug}",
        "status": status, "metadata": {"practika_tenant": str(tenant.public_id)},
        "start_date": int(time.time()), "cancel_at_period_end": False,
        "items": {"object": "list", "data": [{
            "id": f"si_{sub_id}", "quantity": quantity,
            "current_period_end": int(time.time()) + 30 * 86400,
            "price": {"id": f"price_{price.lookup_key}", "lookup_key": price.lookup_key,
                      "unit_amount": price.unit_amount, "currency": price.currency,
                      "recurring": {"interval": price.interval}},
        }]},
    }


class Command(BaseCommand):
    help = "Send signed sample Stripe events to the local webhook endpoint."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="slug of the tenant to subscribe")
        parser.add_argument("--url", default="", help="webhook URL (default: the public site)")

    def handle(self, *args, tenant: str, url: str, **options):
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise CommandError("Set STRIPE_WEBHOOK_SECRET (any value) for the server and here.")
        target = Tenant.objects.filter(slug=tenant).first()
        if target is None:
            raise CommandError(f"No tenant {tenant!r}.")
        plan = plans.SCHOOL if target.kind == Tenant.Kind.SCHOOL else plans.TEACHER
        url = url or hosts.public_url("/billing/stripe/webhook/")
        sub_id = f"sub_sample_{uuid.uuid4().hex[:10]}"
        now = int(time.time())
        invoice = {"id": f"in_{sub_id}", "object": "invoice", "subscription": sub_id,
                   "customer": f"cus_sample_{tenant}", "amount_due": plan.prices[0].unit_amount,
                   "currency": "usd", "created": now, "number": "SAMPLE-1"}
        events = [
            ("customer.subscription.created", _subscription(sub_id, target, plan, "trialing", 1)),
            ("customer.subscription.updated", _subscription(sub_id, target, plan, "active", 1)),
            ("invoice.payment_failed", {**invoice, "status": "open", "amount_paid": 0}),
            ("invoice.paid", {**invoice, "status": "paid",
                              "amount_paid": plan.prices[0].unit_amount}),
        ]
        for offset, (kind, obj) in enumerate(events):
            payload = json.dumps({
                "id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
                "created": now + offset, "livemode": False, "data": {"object": obj},
            })
            request = urllib.request.Request(  # noqa: S310 (a URL the developer chose)
                url, data=payload.encode(), method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": stripe_api.sign_payload(payload=payload, secret=secret),
                },
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                self.stdout.write(f"{kind}: {response.status}")
