"""Billing pages: a tenant's billing page, a student's own plan, Stripe's webhook endpoint and
the staff billing dashboard. Views parse input, call one service or selector, and render."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import plans, pricing, selectors, services
from billing.errors import SignatureInvalid, StripeFailed
from billing.integrations import stripe as stripe_api
from tenants.decorators import require_admin, require_staff
from tenants.errors import DomainError

logger = logging.getLogger(__name__)


def _usage_rows(limits: plans.Limits, usage: selectors.Usage) -> list[dict]:
    rows = [
        ("Students", usage.students, limits.students, ""),
        ("Exercises", usage.exercises, limits.exercises, ""),
        ("Storage", usage.storage_bytes / plans.GB, (
            limits.storage_bytes / plans.GB if limits.storage_bytes is not None else None
        ), "GB"),
    ]
    return [
        {
            "label": label, "used": used, "limit": limit, "unit": unit,
            "percent": min(100, round(100 * used / limit)) if limit else 0,
            "full": limit is not None and used >= limit,
        }
        for label, used, limit, unit in rows
    ]


# --- The plans, for everyone ----------------------------------------------------------------


@require_GET
def pricing_page(request: HttpRequest) -> HttpResponse:
    """The public pricing page: every plan's price and limits, from the catalogue."""
    return render(
        request, "billing/pricing.html",
        {"cards": pricing.plan_cards(), "configured": stripe_api.is_configured()},
    )


# --- Tenant billing (owners and admins) ---------------------------------------------------


@require_admin
@require_GET
def tenant_billing(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    entitlements = selectors.entitlements_for_tenant(tenant)
    return render(
        request, "billing/tenant_billing.html",
        {
            "configured": stripe_api.is_configured(),
            "entitlements": entitlements,
            "latest": selectors.latest_subscription(tenant=tenant),
            "usage": _usage_rows(entitlements.limits, selectors.tenant_usage(tenant=tenant)),
            "video_minutes": (entitlements.limits.video_seconds or 0) // 60,
            "offered": services.plans_offered(tenant=tenant),
            "cards": [
                card for card in pricing.plan_cards(audiences=(plans.Audience.TENANT,))
                if card.code in ("free", *(p.code for p in services.plans_offered(tenant=tenant)))
            ],
            "invoices": selectors.invoices_for(tenant=tenant),
            "preview": services.invoice_preview(subscription=entitlements.subscription),
        },
    )


def _go_to_stripe(request: HttpRequest, make_url, back: str) -> HttpResponse:
    try:
        return redirect(make_url())
    except StripeFailed as error:
        logger.exception("stripe call failed")
        messages.error(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(back)


@require_admin
@require_POST
def tenant_checkout(request: HttpRequest) -> HttpResponse:
    return _go_to_stripe(
        request,
        lambda: services.checkout_start(
            tenant=request.tenant, actor=request.user,
            lookup_key=request.POST.get("lookup_key", ""),
        ),
        "billing:tenant",
    )


@require_admin
@require_POST
def tenant_portal(request: HttpRequest) -> HttpResponse:
    return _go_to_stripe(
        request, lambda: services.portal_url(tenant=request.tenant, user=request.user),
        "billing:tenant",
    )


def _checkout_return(request: HttpRequest, *, for_user: bool, back: str) -> HttpResponse:
    try:
        subscription = services.checkout_return(
            session_id=request.GET.get("session_id", ""), tenant=request.tenant,
            user=request.user, for_user=for_user,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if subscription is None:
            messages.info(request, "Checkout is not finished yet; your plan will show here soon.")
        else:
            trial = " Your free trial has started." if subscription.status == "trialing" else ""
            messages.success(request, f"You are on the {subscription.plan.name} plan.{trial}")
    return redirect(back)


@require_admin
@require_GET
def tenant_checkout_return(request: HttpRequest) -> HttpResponse:
    return _checkout_return(request, for_user=False, back="billing:tenant")


# --- A student's own plan (any member, for themselves) ------------------------------------


@require_GET
def student_plan(request: HttpRequest) -> HttpResponse:
    entitlements = selectors.entitlements_for_student(request.user)
    return render(
        request, "billing/student_plan.html",
        {
            "configured": stripe_api.is_configured(),
            "entitlements": entitlements,
            "plan": plans.STUDENT,
            "cards": pricing.plan_cards(audiences=(plans.Audience.PERSON,)),
            "free_attempts": plans.FREE_ATTEMPTS_PER_EXERCISE,
            "premium_minutes": plans.STUDENT_PREMIUM_VIDEO_SECONDS // 60,
            "invoices": selectors.invoices_for(user=request.user),
        },
    )


@require_POST
def student_checkout(request: HttpRequest) -> HttpResponse:
    return _go_to_stripe(
        request,
        lambda: services.checkout_start(
            tenant=request.tenant, actor=request.user,
            lookup_key=plans.STUDENT.prices[0].lookup_key, for_user=True,
        ),
        "billing:student",
    )


@require_POST
def student_portal(request: HttpRequest) -> HttpResponse:
    return _go_to_stripe(
        request,
        lambda: services.portal_url(tenant=request.tenant, user=request.user, for_user=True),
        "billing:student",
    )


@require_GET
def student_checkout_return(request: HttpRequest) -> HttpResponse:
    return _checkout_return(request, for_user=True, back="billing:student")


# --- Public site: Stripe webhooks and the staff dashboard ---------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store once, queue, answer 2xx at once; Stripe retries anything else."""
    try:
        _event, created = services.webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except SignatureInvalid:
        return JsonResponse({"error": "invalid signature"}, status=400)
    return JsonResponse({"received": True, "duplicate": not created})


@require_staff
@require_GET
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    dashboard = selectors.staff_dashboard()
    bars = [
        {
            "x": 40 * i, "height": round(100 * p.mrr_cents / dashboard.mrr_max),
            "y": 100 - round(100 * p.mrr_cents / dashboard.mrr_max), "point": p,
        }
        for i, p in enumerate(dashboard.mrr_history)
    ]
    return render(
        request, "billing/staff_dashboard.html",
        {
            "dashboard": dashboard, "bars": bars, "chart_width": 40 * len(bars),
            "configured": stripe_api.is_configured(),
        },
    )
