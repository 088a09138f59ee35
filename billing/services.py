"""Writes of billing: limit checks other apps call, Checkout and Portal, webhook processing,
seat counts, and the Stripe catalogue.

Stripe is reached only through billing.integrations.stripe, and only when it is configured:
without `STRIPE_SECRET_KEY` every tenant is on the free plan (or a plan staff assigned) and
nothing here calls out.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import plans, selectors
from billing.errors import BillingError, BillingNotConfigured, LimitReached
from billing.integrations import stripe as stripe_api
from billing.models import BillingCustomer, Invoice, Subscription, SubscriptionChange, WebhookEvent
from tenants import hosts
from tenants.models import ADMIN_ROLES, Membership, Tenant, User

logger = logging.getLogger(__name__)

GB = 1024**3


def _ts(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def _now_version() -> int:
    return int(time.time())


# --- Limits (called by learning and, through billing.policies, by tenants) -----------------


def upgrade_url(tenant: Tenant) -> str:
    return hosts.tenant_url(tenant.slug, "/manage/billing/")


def student_plan_url(tenant: Tenant) -> str:
    return hosts.tenant_url(tenant.slug, "/me/plan/")


def _tenant(tenant) -> Tenant:
    """The Tenant row, also when given the stand-in that `schema_context` puts on the connection."""
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=tenant.schema_name)


def _refuse_when_read_only(tenant: Tenant, entitlements: selectors.TenantEntitlements) -> None:
    if entitlements.read_only:
        raise LimitReached(
            f"Payment for {tenant.name} is overdue, so nothing new can be created until it is "
            "paid. Everything already here stays readable.",
            code="payment_overdue",
            upgrade_url=upgrade_url(tenant),
        )


def check_can_add_student(tenant: Tenant) -> None:
    """Raise LimitReached if `tenant` cannot take one more student on its plan."""
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_tenant(tenant)
    _refuse_when_read_only(tenant, entitlements)
    limit = entitlements.limits.students
    if limit is not None and selectors.student_count(tenant=tenant) >= limit:
        raise LimitReached(
            f"{tenant.name} has reached the {entitlements.plan.name} plan's limit of {limit} "
            "students. The owner can upgrade to add more.",
            code="student_limit",
            upgrade_url=upgrade_url(tenant),
        )


def check_can_create_exercise(tenant: Tenant, current_count: int) -> None:
    """Raise LimitReached if a tenant holding `current_count` exercises cannot add one."""
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_tenant(tenant)
    _refuse_when_read_only(tenant, entitlements)
    limit = entitlements.limits.exercises
    if limit is not None and current_count >= limit:
        raise LimitReached(
            f"The {entitlements.plan.name} plan allows {limit} exercises and this studio has "
            f"{current_count}. Existing exercises stay available; upgrade to create more.",
            code="exercise_limit",
            upgrade_url=upgrade_url(tenant),
        )


def check_upload_allowed(
    tenant: Tenant, size_bytes: int, duration_s: float | None = None, user: User | None = None
) -> None:
    """Raise LimitReached if an upload of this size and length would break a plan limit."""
    tenant = _tenant(tenant)
    entitlements = selectors.entitlements_for_tenant(tenant)
    _refuse_when_read_only(tenant, entitlements)
    limits = entitlements.limits
    if limits.storage_bytes is not None:
        used = selectors.storage_used(tenant=tenant)
        if used + max(0, int(size_bytes)) > limits.storage_bytes:
            raise LimitReached(
                f"This upload would go past the {entitlements.plan.name} plan's storage limit "
                f"of {limits.storage_bytes / GB:g} GB ({used / GB:.2f} GB used).",
                code="storage_limit",
                upgrade_url=upgrade_url(tenant),
            )
    seconds = limits.video_seconds
    student = selectors.entitlements_for_student(user) if user is not None else None
    if seconds is not None and student is not None and student.video_seconds is not None:
        seconds = max(seconds, student.video_seconds)
    if seconds is not None and duration_s is not None and duration_s > seconds:
        raise LimitReached(
            f"Recordings on the {entitlements.plan.name} plan can be up to {seconds // 60} "
            f"minutes long; this one is {duration_s / 60:.1f} minutes.",
            code="video_length_limit",
            upgrade_url=upgrade_url(tenant) if student is None else student_plan_url(tenant),
        )


# --- Subscriptions from Stripe ------------------------------------------------------------


def _owner_from_metadata(metadata: dict | None) -> tuple[Tenant | None, User | None]:
    metadata = metadata or {}
    tenant = user = None
    if metadata.get("practika_tenant"):
        tenant = Tenant.objects.filter(public_id=metadata["practika_tenant"]).first()
    elif metadata.get("practika_user"):
        user = User.objects.filter(public_id=metadata["practika_user"]).first()
    return tenant, user


def _link_customer(*, customer_id: str, tenant: Tenant | None, user: User | None) -> None:
    """Remember whose Stripe customer this is, and give them its orphan subscriptions."""
    if not customer_id or (tenant is None and user is None):
        return
    owner = {"tenant": tenant} if tenant is not None else {"user": user}
    existing = BillingCustomer.objects.filter(**owner).first()
    if existing is None:
        try:
            with transaction.atomic():
                BillingCustomer.objects.create(stripe_customer_id=customer_id, **owner)
        except IntegrityError:  # the customer is already someone's; keep the first owner
            logger.warning("stripe customer %s already linked", customer_id)
    elif existing.stripe_customer_id != customer_id:
        # A newer checkout made a new customer: the portal should open the live one.
        existing.stripe_customer_id = customer_id
        existing.save(update_fields=["stripe_customer_id", "updated_at"])
    Subscription.objects.filter(
        stripe_customer_id=customer_id, tenant__isnull=True, user__isnull=True
    ).update(**owner)


def _subscription_fields(data: dict) -> dict:
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or data.get("plan") or {}
    match = plans.plan_for_lookup_key(price.get("lookup_key"))
    metadata = data.get("metadata") or {}
    plan_code = match[0].code if match else metadata.get("practika_plan", plans.FREE.code)
    status = data.get("status") or Subscription.Status.INCOMPLETE
    customer = data.get("customer") or ""
    return {
        "stripe_customer_id": customer if isinstance(customer, str) else customer.get("id", ""),
        "stripe_item_id": item.get("id") or "",
        "plan_code": plan_code if plan_code in plans.PLANS else plans.FREE.code,
        "price_lookup_key": price.get("lookup_key") or "",
        "status": status,
        "quantity": int(item.get("quantity") or data.get("quantity") or 1),
        "unit_amount": int(price.get("unit_amount") or 0),
        "interval": (price.get("recurring") or {}).get("interval") or "month",
        "currency": price.get("currency") or "usd",
        "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
        "started_at": _ts(data.get("start_date") or data.get("created")),
        "current_period_end": _ts(item.get("current_period_end") or data.get("current_period_end")),
        "trial_end": _ts(data.get("trial_end")),
        "canceled_at": (
            _ts(data.get("ended_at") or data.get("canceled_at"))
            if status == Subscription.Status.CANCELED else None
        ),
    }


def _record_change(subscription: Subscription, at: datetime) -> None:
    last = subscription.changes.order_by("-at", "-pk").first()
    state = (subscription.status, subscription.plan_code, subscription.quantity)
    if last is not None and (last.status, last.plan_code, last.quantity) == state:
        return
    SubscriptionChange.objects.create(
        subscription=subscription, status=subscription.status, plan_code=subscription.plan_code,
        quantity=subscription.quantity, mrr_cents=subscription.mrr_cents, at=at,
    )


@transaction.atomic
def subscription_apply(*, data: dict, version: int) -> Subscription:
    """Store a Stripe subscription object seen at `version` (the event's or read's time).

    Stale states lose: an event older than what is stored changes nothing, and a canceled
    subscription stays canceled (Stripe never revives one). On a tie with Stripe configured,
    the subscription is read again, since two events of the same second have no order.
    """
    stripe_id = data["id"]
    subscription = (
        Subscription.objects.select_for_update().filter(stripe_subscription_id=stripe_id).first()
    )
    if subscription is not None:
        if subscription.status == Subscription.Status.CANCELED:
            return subscription
        if version < subscription.stripe_version:
            return subscription
        if version == subscription.stripe_version and stripe_api.is_configured():
            data = stripe_api.subscription_get(stripe_id)
    else:
        subscription = Subscription(stripe_subscription_id=stripe_id)
    was_past_due = subscription.status == Subscription.Status.PAST_DUE
    for name, value in _subscription_fields(data).items():
        setattr(subscription, name, value)
    subscription.stripe_version = version
    if subscription.tenant_id is None and subscription.user_id is None:
        tenant, user = _owner_from_metadata(data.get("metadata"))
        if tenant is None and user is None:
            customer = BillingCustomer.objects.filter(
                stripe_customer_id=subscription.stripe_customer_id
            ).first()
            if customer is not None:
                tenant, user = customer.tenant, customer.user
        subscription.tenant, subscription.user = tenant, user
        _link_customer(customer_id=subscription.stripe_customer_id, tenant=tenant, user=user)
    newly_past_due = _set_past_due(subscription, _ts(version), was_past_due=was_past_due)
    subscription.save()
    if newly_past_due:
        _email_past_due_on_commit(subscription)
    _record_change(subscription, _ts(version) or timezone.now())
    return subscription


def _set_past_due(subscription: Subscription, at: datetime | None, *, was_past_due: bool) -> bool:
    """Start (or end) the grace period; True when it has just started (email the payer)."""
    if subscription.status != Subscription.Status.PAST_DUE:
        subscription.past_due_since = None
        return False
    if not was_past_due or subscription.past_due_since is None:
        subscription.past_due_since = at or timezone.now()
        return True
    return False


def _email_past_due_on_commit(subscription: Subscription) -> None:
    subscription_pk = subscription.pk
    transaction.on_commit(lambda: _email_past_due(subscription_pk))


# --- Invoices -----------------------------------------------------------------------------


def _invoice_subscription_id(data: dict) -> str:
    if data.get("subscription"):
        sub = data["subscription"]
        return sub if isinstance(sub, str) else sub.get("id", "")
    # Newer API versions moved it under `parent`.
    details = (data.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or ""


def _invoice_apply(data: dict, version: int) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update().filter(stripe_invoice_id=data["id"]).first()
        or Invoice(stripe_invoice_id=data["id"])
    )
    if invoice.pk and version < invoice.stripe_version:
        return invoice
    invoice.stripe_customer_id = data.get("customer") or ""
    invoice.subscription = Subscription.objects.filter(
        stripe_subscription_id=_invoice_subscription_id(data) or None
    ).first()
    invoice.number = data.get("number") or ""
    invoice.status = data.get("status") or "open"
    invoice.amount_due = int(data.get("amount_due") or 0)
    invoice.amount_paid = int(data.get("amount_paid") or 0)
    invoice.currency = data.get("currency") or "usd"
    invoice.hosted_invoice_url = data.get("hosted_invoice_url") or ""
    invoice.issued_at = _ts(data.get("created"))
    invoice.stripe_version = version
    invoice.save()
    return invoice


def _on_invoice_paid(data: dict, version: int) -> None:
    invoice = _invoice_apply(data, version)
    subscription = invoice.subscription
    if subscription is None:
        return
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    overdue = (Subscription.Status.PAST_DUE, Subscription.Status.UNPAID)
    # Payment restores at once; a newer state than this payment (stored later) is kept.
    if subscription.status in overdue and version >= subscription.stripe_version:
        subscription.status = Subscription.Status.ACTIVE
        subscription.past_due_since = None
        subscription.stripe_version = version
        subscription.save(
            update_fields=["status", "past_due_since", "stripe_version", "updated_at"]
        )
        _record_change(subscription, _ts(version) or timezone.now())


def _on_invoice_payment_failed(data: dict, version: int) -> None:
    invoice = _invoice_apply(data, version)
    subscription = invoice.subscription
    if subscription is None:
        return
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    live = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING)
    if subscription.status in live and version >= subscription.stripe_version:
        subscription.status = Subscription.Status.PAST_DUE
        subscription.stripe_version = version
        _set_past_due(subscription, _ts(version), was_past_due=False)
        subscription.save(
            update_fields=["status", "past_due_since", "stripe_version", "updated_at"]
        )
        _email_past_due_on_commit(subscription)
        _record_change(subscription, _ts(version) or timezone.now())


# --- Webhook events -----------------------------------------------------------------------


def _on_checkout_completed(data: dict, version: int) -> None:
    tenant, user = _owner_from_metadata(data.get("metadata"))
    customer = data.get("customer") or ""
    _link_customer(customer_id=customer, tenant=tenant, user=user)
    subscription = data.get("subscription")
    if isinstance(subscription, dict):
        subscription_apply(data=subscription, version=version)
    elif subscription and stripe_api.is_configured():
        subscription_apply(data=stripe_api.subscription_get(subscription), version=_now_version())


def _on_subscription_event(data: dict, version: int) -> None:
    subscription_apply(data=data, version=version)


def _on_trial_will_end(data: dict, version: int) -> None:
    subscription = subscription_apply(data=data, version=version)
    subscription_pk = subscription.pk
    transaction.on_commit(lambda: _email_trial_ending(subscription_pk))


HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "customer.subscription.paused": _on_subscription_event,
    "customer.subscription.resumed": _on_subscription_event,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_invoice_payment_failed,
}


@transaction.atomic
def webhook_receive(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify a webhook on its raw body and store it once by id; processing is queued."""
    data = stripe_api.construct_event(
        payload=payload, signature=signature, secret=settings.STRIPE_WEBHOOK_SECRET
    )
    event, created = WebhookEvent.objects.get_or_create(
        stripe_event_id=data["id"],
        defaults={
            "type": data.get("type", ""),
            "stripe_created": int(data.get("created") or 0),
            "livemode": bool(data.get("livemode")),
            "payload": data,
        },
    )
    if event.processed_at is None:
        from billing import tasks

        event_pk = event.pk
        transaction.on_commit(lambda: tasks.process_stripe_event.delay(event_pk))
    return event, created


@transaction.atomic
def event_process(*, event_id: int) -> bool:
    """Apply one stored event, once: False if it had already been processed."""
    event = WebhookEvent.objects.select_for_update().get(pk=event_id)
    if event.processed_at is not None:
        return False
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(event.payload["data"]["object"], event.stripe_created)
    event.processed_at = timezone.now()
    event.attempts += 1
    event.error = ""
    event.save(update_fields=["processed_at", "attempts", "error"])
    return True


def event_record_failure(*, event_id: int, error: str) -> None:
    """Note a failed attempt (the event stays unprocessed and is retried)."""
    WebhookEvent.objects.filter(pk=event_id).update(error=error[:2000])


# --- Checkout, return and Portal ----------------------------------------------------------


def _require_stripe() -> None:
    if not stripe_api.is_configured():
        raise BillingNotConfigured(
            "Billing is not configured on this server: everyone is on the free plan.",
            code="billing_not_configured",
        )


def _return_base(*, tenant: Tenant, for_user: bool) -> str:
    return hosts.tenant_url(tenant.slug, "/me/plan/" if for_user else "/manage/billing/")


def plans_offered(*, tenant: Tenant) -> list[plans.Plan]:
    """Tenant plans sold to this kind of tenant: Teacher to studios, School to schools."""
    return [plans.SCHOOL] if tenant.kind == Tenant.Kind.SCHOOL else [plans.TEACHER]


@transaction.atomic
def checkout_start(
    *, tenant: Tenant, actor: User, lookup_key: str, for_user: bool = False
) -> str:
    """A Stripe Checkout URL for the plan behind `lookup_key` (tenant plan, or the actor's)."""
    _require_stripe()
    match = plans.plan_for_lookup_key(lookup_key)
    if match is None:
        raise BillingError("Choose one of the plans on this page.", code="plan_unknown")
    plan, _price = match
    if for_user != (plan.audience == plans.Audience.PERSON) or (
        not for_user and plan not in plans_offered(tenant=tenant)
    ):
        raise BillingError("That plan is not offered here.", code="plan_unavailable")
    owner = {"user": actor} if for_user else {"tenant": tenant}
    if selectors.current_subscription(**owner) is not None:
        raise BillingError(
            "There is already a plan in place: change it with “Manage billing”.",
            code="already_subscribed",
        )
    price = stripe_api.prices_by_lookup_key([lookup_key]).get(lookup_key)
    if price is None:
        raise BillingError(
            "This plan is not set up in Stripe yet (run sync_stripe_catalogue).",
            code="price_missing",
        )
    customer = BillingCustomer.objects.filter(**owner).first()
    had_trial = Subscription.objects.filter(**owner, trial_end__isnull=False).exists()
    metadata = {"practika_plan": plan.code}
    if for_user:
        metadata["practika_user"] = str(actor.public_id)
    else:
        metadata["practika_tenant"] = str(tenant.public_id)
    base = _return_base(tenant=tenant, for_user=for_user)
    session = stripe_api.checkout_session_create(
        price_id=price["id"],
        quantity=max(1, selectors.student_count(tenant=tenant)) if plan.per_seat else 1,
        success_url=f"{base}return/?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=base,
        client_reference_id=str(actor.public_id if for_user else tenant.public_id),
        metadata=metadata,
        trial_days=0 if had_trial else plan.trial_days,
        customer_id=customer.stripe_customer_id if customer else "",
        customer_email="" if customer else actor.email,
    )
    from tenants.services import audit

    audit(actor=actor, tenant=tenant, action="billing.checkout_started", plan=plan.code)
    return session["url"]


@transaction.atomic
def checkout_return(
    *, session_id: str, tenant: Tenant, user: User, for_user: bool = False
) -> Subscription | None:
    """Read the Checkout Session on return and store its subscription without the webhook."""
    _require_stripe()
    try:
        session = stripe_api.checkout_session_get(session_id)
    except stripe_api.StripeError as error:
        raise BillingError("That checkout could not be found.", code="checkout_unknown") from error
    owner_tenant, owner_user = _owner_from_metadata(session.get("metadata"))
    mine = owner_user == user if for_user else owner_tenant == tenant
    if not mine:
        raise BillingError("That checkout belongs to someone else.", code="checkout_not_yours")
    if session.get("status") != "complete":
        return None
    _link_customer(customer_id=session.get("customer") or "", tenant=owner_tenant, user=owner_user)
    subscription = session.get("subscription")
    if isinstance(subscription, str):
        subscription = stripe_api.subscription_get(subscription)
    if not subscription:
        return None
    return subscription_apply(data=subscription, version=_now_version())


def portal_url(*, tenant: Tenant, user: User, for_user: bool = False) -> str:
    """A Stripe Customer Portal URL (card, invoices, cancel) for the tenant or the person."""
    _require_stripe()
    owner = {"user": user} if for_user else {"tenant": tenant}
    customer = BillingCustomer.objects.filter(**owner).first()
    if customer is None:
        raise BillingError(
            "There is no billing account yet: choose a plan first.", code="no_customer"
        )
    session = stripe_api.portal_session_create(
        customer_id=customer.stripe_customer_id,
        return_url=_return_base(tenant=tenant, for_user=for_user),
    )
    return session["url"]


def invoice_preview(*, subscription: Subscription | None) -> dict | None:
    """The next invoice's total and date from Stripe, or None (offline, manual, or an error)."""
    if (
        subscription is None
        or subscription.source != Subscription.Source.STRIPE
        or not stripe_api.is_configured()
    ):
        return None
    try:
        preview = stripe_api.invoice_preview(
            customer_id=subscription.stripe_customer_id,
            subscription_id=subscription.stripe_subscription_id,
        )
    except stripe_api.StripeError:
        logger.warning("invoice preview failed for %s", subscription.stripe_subscription_id)
        return None
    return {
        "amount_due": preview.get("amount_due") or 0,
        "total": preview.get("total") or 0,
        "currency": preview.get("currency") or "usd",
        "date": _ts(preview.get("next_payment_attempt") or preview.get("period_end")),
    }


# --- Seats --------------------------------------------------------------------------------


def _seat_key(tenant_id: int) -> str:
    return f"billing:seat-sync:{tenant_id}"


def seats_sync_schedule(*, tenant: Tenant) -> bool:
    """Queue one seat update per debounce window for a school on a per-seat plan."""
    if not stripe_api.is_configured():
        return False
    subscription = selectors.current_subscription(tenant=tenant)
    if subscription is None or not subscription.plan.per_seat or not subscription.stripe_item_id:
        return False
    window = settings.PRACTIKA_SEAT_SYNC_DEBOUNCE_S
    # Keys carry the schema (django_tenants.cache.make_key): pin it so the task finds it.
    with schema_context("public"):
        if not cache.add(_seat_key(tenant.pk), 1, timeout=window * 10):
            return False
    from billing import tasks

    tenant_pk = tenant.pk
    transaction.on_commit(lambda: tasks.sync_seats.apply_async(args=[tenant_pk], countdown=window))
    return True


@transaction.atomic
def seats_sync(*, tenant_id: int) -> int | None:
    """Set the school's Stripe quantity to its number of students (prorated); the new count."""
    with schema_context("public"):
        cache.delete(_seat_key(tenant_id))  # joins from now on schedule the next update
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not stripe_api.is_configured():
        return None
    subscription = selectors.current_subscription(tenant=tenant)
    if subscription is None or not subscription.plan.per_seat or not subscription.stripe_item_id:
        return None
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    seats = max(1, selectors.student_count(tenant=tenant))
    if seats == subscription.quantity:
        return seats
    stripe_api.subscription_item_set_quantity(
        item_id=subscription.stripe_item_id, quantity=seats, proration="create_prorations"
    )
    subscription.quantity = seats
    subscription.save(update_fields=["quantity", "updated_at"])
    _record_change(subscription, timezone.now())
    return seats


# --- Staff --------------------------------------------------------------------------------


@transaction.atomic
def subscription_assign_manual(
    *, actor: User, plan_code: str, tenant: Tenant | None = None, user: User | None = None,
    quantity: int = 1,
) -> Subscription:
    """Staff put a tenant (or a person) on a plan by hand, without Stripe (e.g. a pilot)."""
    if not actor.is_staff:
        raise BillingError("Only Practika staff assign plans.", code="forbidden")
    plan = plans.PLANS.get(plan_code)
    if plan is None or not plan.is_paid:
        raise BillingError("Choose a paid plan.", code="plan_unknown")
    if (tenant is None) == (user is None):
        raise BillingError("Assign a plan to a tenant or to a person.", code="owner_required")
    owner = {"tenant": tenant} if tenant is not None else {"user": user}
    Subscription.objects.filter(source=Subscription.Source.MANUAL, **owner).exclude(
        status=Subscription.Status.CANCELED
    ).update(status=Subscription.Status.CANCELED, canceled_at=timezone.now())
    price = plan.prices[0]
    subscription = Subscription.objects.create(
        source=Subscription.Source.MANUAL, plan_code=plan.code, status=Subscription.Status.ACTIVE,
        quantity=quantity, unit_amount=price.unit_amount, interval=price.interval,
        started_at=timezone.now(), stripe_version=_now_version(), **owner,
    )
    _record_change(subscription, timezone.now())
    from tenants.services import audit

    audit(actor=actor, tenant=tenant, action="billing.plan_assigned", plan=plan.code)
    return subscription


# --- Catalogue ----------------------------------------------------------------------------


def catalogue_sync() -> list[str]:
    """Create or update the Stripe Products and Prices of the catalogue; safe to rerun."""
    _require_stripe()
    report = []
    for plan in plans.PAID_PLANS:
        product_id = f"practika_{plan.code}"
        fields = {
            "product_id": product_id, "name": f"Practika {plan.name}",
            "description": plan.description, "metadata": {"practika_plan": plan.code},
        }
        product = stripe_api.product_get(product_id)
        if product is None:
            stripe_api.product_create(**fields)
            report.append(f"created product {product_id}")
        elif (product.get("name"), product.get("description")) != (
            fields["name"], fields["description"]
        ) or not product.get("active", True):
            stripe_api.product_update(**fields)
            report.append(f"updated product {product_id}")
        existing = stripe_api.prices_by_lookup_key([p.lookup_key for p in plan.prices])
        for price in plan.prices:
            current = existing.get(price.lookup_key)
            same = current is not None and (
                current.get("unit_amount") == price.unit_amount
                and current.get("currency") == price.currency
                and (current.get("recurring") or {}).get("interval") == price.interval
                and _product_id(current) == product_id
            )
            if same:
                continue
            stripe_api.price_create(
                product_id=product_id, lookup_key=price.lookup_key,
                unit_amount=price.unit_amount, currency=price.currency, interval=price.interval,
            )
            report.append(f"{'replaced' if current else 'created'} price {price.lookup_key}")
    return report


def _product_id(price: dict) -> str:
    product = price.get("product")
    return product if isinstance(product, str) else (product or {}).get("id", "")


# --- Email --------------------------------------------------------------------------------


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


def _email_past_due(subscription_pk: int) -> None:
    _email(
        subscription_pk, subject="Your Practika payment failed",
        template="billing/email/past_due.txt",
    )


def _email_trial_ending(subscription_pk: int) -> None:
    _email(
        subscription_pk, subject="Your Practika trial ends soon",
        template="billing/email/trial_will_end.txt",
    )
