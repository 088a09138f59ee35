"""What the base layout needs on every page: the tenant, the member, and the layout's links
and static files, resolved once per process instead of by a `{% url %}` or `{% static %}` tag
on every page (about a tenth of a member page's CPU went to them; docs/scaling.md)."""

from __future__ import annotations

from functools import lru_cache

from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from tenants.hosts import public_url

# The base layout's links (templates/base.html): `links.<key>`. A name the host's URLconf does
# not have (the staff pages on a tenant's host) is left out.
LAYOUT_LINKS = {
    "dashboard": "analytics:dashboard",
    "my_exercises": "learning:my_exercises",
    "my_replies": "learning:my_replies",
    "peer_reviews": "learning:peer_reviews",
    "exercises": "learning:teacher_exercises",
    "inbox": "learning:inbox",
    "classes": "learning:classes",
    "courses": "learning:teacher_courses",
    "my_courses": "learning:my_courses",
    "rubrics": "learning:rubric_library",
    "members": "tenants:members",
    "settings": "tenants:settings",
    "audit_log": "tenants:audit_log",
    "billing": "billing:tenant",
    "my_plan": "billing:student",
    "tenant_export": "learning:tenant_export",
    "open_work": "learning:open_work",
    "my_data": "learning:my_data",
    "member_self_delete": "tenants:member_self_delete",
    "after_login": "tenants:after_login",
    "staff": "staff:tenant_list",
    "revenue": "billing_public:staff_dashboard",
    "logout": "account_logout",
    "login": "account_login",
    "signup": "tenants:signup",
    "api_docs": "api-docs",
    # The bell (templates/analytics/_bell.html, included by the layout).
    "notifications": "analytics:notifications",
    "notifications_read_all": "analytics:notifications_read_all",
    "notification_preferences": "analytics:preferences",
}
# `assets.<key>`: the static files every page links to.
LAYOUT_ASSETS = {
    "favicon": "favicon.svg",
    "css": "practika.css",
    "noscript_css": "noscript.css",
    "behaviours_js": "js/behaviours.js",
    "bell_css": "analytics/bell.css",
    "live_js": "js/live.js",
    "practice_js": "js/practice.js",
}


@lru_cache(maxsize=16)
def _links(urlconf, script_prefix: str) -> dict[str, str]:
    # Keyed by what reverse() depends on: the request's URLconf and the script prefix.
    links = {}
    for key, name in LAYOUT_LINKS.items():
        try:
            links[key] = reverse(name, urlconf=urlconf)
        except NoReverseMatch:
            continue
    return links


@lru_cache(maxsize=1)
def _assets() -> dict[str, str]:
    # The storage's manifest is read once per process too: the hashed names cannot change
    # under a running process.
    return {key: static(path) for key, path in LAYOUT_ASSETS.items()}


def tenancy(request):
    tenant = getattr(request, "tenant", None)
    on_tenant = tenant is not None and tenant.schema_name != "public"
    return {
        "current_tenant": tenant if on_tenant else None,
        "membership": getattr(request, "membership", None),
        "public_site_url": public_url("/"),
        "links": _links(get_urlconf(), get_script_prefix()),
        "assets": _assets(),
    }
