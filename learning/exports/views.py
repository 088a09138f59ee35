"""The export pages: the school's export in the admin portal (`/manage/export/`, owners and
admins) and a member's own data (`/my-data/`, anyone), and the download link the email
brings (`/exports/<id>/download/?token=…`). The pages' script follows progress through the
API (templates/static/js/exports.js)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from learning import storage
from learning.errors import DomainError
from learning.exports import selectors, services
from learning.exports.services import ExportLinkInvalid
from learning.models import Export
from learning.pages import found
from tenants.decorators import forbidden, require_admin

PAGES = {Export.Scope.TENANT: "learning:tenant_export", Export.Scope.PERSONAL: "learning:my_data"}


def _page(request: HttpRequest, scope: str) -> HttpResponse:
    member = request.membership
    if request.method == "POST":
        try:
            services.export_request(member=member, scope=scope)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, "Your export is being written. We will email you a link when it is ready."
            )
        return redirect(PAGES[scope])
    exports = list(selectors.exports_for(member=member, scope=scope)[: selectors.RECENT])
    rows = [
        {"export": e, "link": services.download_link(e) if e.state == Export.State.READY else ""}
        for e in exports
    ]
    return render(
        request,
        "learning/exports/page.html",
        {
            "scope": scope,
            "rows": rows,
            "personal": scope == Export.Scope.PERSONAL,
            "in_progress": any(e.in_progress for e in exports),
            "link_hours": max(1, services.link_seconds() // 3600),
            "keep_days": settings.PRACTIKA_EXPORT_KEEP_DAYS,
        },
    )


@require_admin
@require_http_methods(["GET", "POST"])
def tenant_export(request: HttpRequest) -> HttpResponse:
    return _page(request, Export.Scope.TENANT)


@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    return _page(request, Export.Scope.PERSONAL)


@require_GET
def export_download(request: HttpRequest, public_id) -> HttpResponse:
    member = request.membership
    export = found(lambda: selectors.export_get(member=member, public_id=public_id))
    try:
        url = services.export_download_url(
            member=member, export=export, token=request.GET.get("token", "")
        )
    except ExportLinkInvalid as error:
        return render(
            request,
            "learning/exports/link_invalid.html",
            {"message": error.message, "page": PAGES[export.scope]},
            status=410,
        )
    except DomainError as error:
        return forbidden(request, error.message)
    except storage.StorageUnavailable:
        return render(
            request,
            "learning/exports/link_invalid.html",
            {
                "message": "Storage is not reachable right now. Try again in a minute.",
                "page": PAGES[export.scope],
            },
            status=503,
        )
    return redirect(url)
