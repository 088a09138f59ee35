"""`{% sign_on_choices as choices %}`: the single sign-on buttons of a login page.

On the public site, the platform's providers (Google, Microsoft) straight to allauth; on a
school's host, its own server and the platform's providers, through the public site's
`/sso/<slug>/...` (sign-in runs on the public site, then the login handover brings people back).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from tenants import hosts
from tenants.sso import selectors
from tenants.sso.views import platform_providers

register = template.Library()

LABELS = {"google": "Google", "microsoft": "Microsoft"}


@register.simple_tag(takes_context=True)
def sign_on_choices(context) -> list[dict[str, str]]:
    request = context["request"]
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        next_url = request.GET.get("next", "")
        choices = []
        for name in platform_providers():
            query = {"process": "login"}
            if next_url.startswith("/") and not next_url.startswith("//"):
                query["next"] = next_url
            url = f"{reverse(f'{name}_login')}?{urlencode(query)}"
            choices.append({"label": f"Continue with {LABELS[name]}", "url": url})
        return choices
    choices = []
    sign_on = selectors.sign_on_for(tenant=tenant)
    public = "config.urls_public"
    if sign_on is not None and sign_on.app is not None:
        url = reverse("tenants:sso_start", args=[tenant.slug], urlconf=public)
        choices.append(
            {"label": f"Continue with {tenant.name} sign-in", "url": hosts.public_url(url)}
        )
    for name in platform_providers():
        url = reverse("tenants:sso_start", args=[tenant.slug, name], urlconf=public)
        choices.append({"label": f"Continue with {LABELS[name]}", "url": hosts.public_url(url)})
    return choices
