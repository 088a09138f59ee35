"""Pages of analytics on a tenant's host: dashboards, notifications and their preferences,
and the unsubscribe page that email links open without logging in."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from analytics import notifications, selectors, services
from learning import page_parts, roles
from learning.errors import DomainError
from learning.replies import selectors as reply_selectors
from tenants import page_cache
from tenants.decorators import forbidden

STUDENTS_PER_PAGE = 50
# Dashboards are recomputed when activity changes the tenant's figures (the version in the
# key changes) or at the latest after this many seconds (members joining, time passing).
DASHBOARD_CACHE_SECONDS = 60


def member_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.membership is None:
            return forbidden(request, "This page is for members.")
        return view(request, *args, **kwargs)

    return wrapper


def _cached(key: str, compute):
    full_key = f"analytics:{key}:{services.dashboards_version()}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, DASHBOARD_CACHE_SECONDS)
    return value


@member_page
def start(request: HttpRequest) -> HttpResponse:
    """Where a member lands: a new student on their one exercise, everyone else on the
    dashboard."""
    if roles.is_student(request.membership):
        exercise = selectors.landing_exercise(user=request.user)
        if exercise is not None:
            return redirect("learning:student_exercise", public_id=exercise.public_id)
    return redirect("analytics:dashboard")


def _fragment(request: HttpRequest, key: str, template: str, context) -> str:
    """The dashboard's content rendered once per version of the figures (it holds no form and
    nothing personal beyond what the key names), so a view mostly costs the page around it."""
    html = _cached(f"html:{key}", lambda: render_to_string(template, context(), request=request))
    return SafeString(html)  # our own template's output, rendered with autoescaping


@member_page
@page_cache.cached_page(page_parts.VERSION_KEY, services.DASHBOARD_VERSION_KEY)
def dashboard(request: HttpRequest) -> HttpResponse:
    member = request.membership
    if roles.is_student(member):
        content = _fragment(
            request, f"student:{request.user.pk}", "analytics/_student_content.html",
            lambda: {"dash": selectors.student_dashboard(user=request.user)},
        )
        return render(request, "analytics/dashboard_student.html", {"content": content})
    def context():
        data = _cached(f"teacher:{scope}", lambda: selectors.teacher_dashboard(member=member))
        rows, sort = selectors.sort_students(data.students, request.GET.get("sort", "name"))
        page = Paginator(rows, STUDENTS_PER_PAGE).get_page(request.GET.get("page"))
        return {"dash": data, "page": page, "sort": sort}

    # Keyed by what the viewer may see (learning.replies.selectors.visibility_key).
    scope = reply_selectors.visibility_key(member)
    checklist = services.onboarding_checklist_for(member=member)
    sort_key = f"{request.GET.get('sort', 'name')[:20]}:{request.GET.get('page', '1')[:6]}"
    return render(
        request, "analytics/dashboard_teacher.html",
        {
            "content": _fragment(
                request, f"teacher:{scope}:{sort_key}", "analytics/_teacher_content.html", context
            ),
            "is_admin": member.is_admin,
            # Outside the cache: it ticks as soon as a step is done, activity or not.
            "checklist": checklist,
            # A new studio is offered its sample exercise; adding it is the POST below.
            "offer_sample": bool(checklist) and selectors.sample_exercise_available(),
        },
    )


@member_page
@require_POST
def sample_exercise_add(request: HttpRequest) -> HttpResponse:
    """Add the new studio's sample exercise (offered on the dashboard until it was added once)."""
    if not roles.is_teacher(request.membership):
        return forbidden(request, "Only teachers add exercises.")
    try:
        sample = services.sample_exercise_ensure(member=request.membership)
    except DomainError as error:  # a plan limit: no sample, nothing else lost
        messages.error(request, error.message)
        return redirect("analytics:dashboard")
    if sample is None:
        return redirect("analytics:dashboard")
    services.dashboards_invalidate()
    messages.success(request, f"“{sample.title}” is ready to edit.")
    return redirect("learning:teacher_exercise", public_id=sample.public_id)


@member_page
def school_dashboard(request: HttpRequest) -> HttpResponse:
    if not request.membership.is_admin:
        return forbidden(request, "This page is for the school's owners and admins.")
    data = _cached("school", selectors.admin_dashboard)
    return render(request, "analytics/dashboard_school.html", {"dash": data})


# --- Notifications ------------------------------------------------------------------------


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return redirect(target)


@member_page
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "analytics/notifications.html", {"page": page})


@require_POST
@member_page
def notification_read(request: HttpRequest, public_id) -> HttpResponse:
    """Mark one notification read and go where it points."""
    notification = selectors.notifications_for(user=request.user).filter(
        public_id=public_id
    ).first()
    if notification is None:
        raise Http404("No such notification.")
    notifications.mark_read(user=request.user, public_id=public_id)
    return _back(request, notification.url or reverse("analytics:notifications"))


@require_POST
@member_page
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications.mark_read(user=request.user)
    return _back(request, reverse("analytics:notifications"))


@member_page
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        for item in notifications.preferences_for(user=request.user):
            for channel in item["channels"]:
                wanted = f"{item['kind']}:{channel['channel']}" in request.POST
                if wanted != channel["enabled"]:
                    notifications.preference_set(
                        user=request.user, kind=item["kind"], channel=channel["channel"],
                        enabled=wanted,
                    )
        messages.success(request, "Your notification settings are saved.")
        return redirect("analytics:preferences")
    return render(
        request, "analytics/preferences.html",
        {"items": notifications.preferences_for(user=request.user)},
    )


# Served under /api/ so that the tenant middleware leaves the decision to the view, like the
# API's open routes: the signed token in the path is the credential, no session is needed.
# POST without a CSRF token is RFC 8058's one-click unsubscribe from mail clients.
@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user, kind = notifications.unsubscribe_check(token=token)
    except notifications.UnsubscribeInvalid as error:
        raise Http404(str(error)) from error
    done = False
    if request.method == "POST":
        notifications.unsubscribe(token=token)
        done = True
    return render(
        request, "analytics/unsubscribe.html",
        {"kind_label": notifications.Kind(kind).label, "done": done, "member": user},
    )
