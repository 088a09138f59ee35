"""The roster import pages of the admin portal (owners and admins): upload, preview, confirm."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from learning.errors import DomainError
from learning.models import RosterImport
from learning.roster import services
from learning.roster.parsing import RosterFileError
from tenants.decorators import require_admin


@require_admin
@require_http_methods(["GET", "POST"])
def roster_upload(request: HttpRequest) -> HttpResponse:
    error = ""
    sign_in = request.POST.get("sign_in", RosterImport.SignIn.INVITATION)
    if request.method == "POST":
        chosen = request.FILES.getlist("files")
        # Read only what the service would accept (it checks the bytes read again).
        too_large = sum(f.size for f in chosen) > services.MAX_UPLOAD_BYTES
        uploads = [] if too_large else [(f.name, f.read()) for f in chosen]
        try:
            if too_large:
                raise DomainError("The roster is larger than 10 MB. Split it.", code="too_large")
            if not uploads:
                raise DomainError("Choose a CSV file, or a OneRoster ZIP.", code="file_required")
            roster_import = services.roster_upload(
                member=request.membership, uploads=uploads, sign_in=sign_in
            )
        except (DomainError, RosterFileError) as problem:
            error = getattr(problem, "message", None) or str(problem)
        else:
            return redirect("learning:roster_preview", public_id=roster_import.public_id)
    return render(
        request,
        "learning/roster/upload.html",
        {
            "error": error,
            "sign_in": sign_in,
            "sign_in_choices": RosterImport.SignIn.choices,
            "recent": RosterImport.objects.filter(
                status=RosterImport.Status.IMPORTED
            ).select_related("uploaded_by")[:10],
        },
        status=400 if error else 200,
    )


@require_admin
@require_GET
def roster_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.simple_template(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="practika-roster.csv"'
    return response


def _roster_import(public_id) -> RosterImport:
    roster_import = RosterImport.objects.filter(public_id=public_id).first()
    if roster_import is None:
        raise Http404("No such roster upload.")
    return roster_import


@require_admin
@require_GET
def roster_preview(request: HttpRequest, public_id) -> HttpResponse:
    roster_import = _roster_import(public_id)
    preview = None
    if roster_import.status == RosterImport.Status.PREVIEWED:
        preview = services.roster_preview(member=request.membership, roster_import=roster_import)
    return render(
        request,
        "learning/roster/preview.html",
        {"roster_import": roster_import, "preview": preview},
    )


@require_admin
@require_POST
def roster_confirm(request: HttpRequest, public_id) -> HttpResponse:
    roster_import = _roster_import(public_id)
    try:
        counts = services.roster_import(
            member=request.membership,
            roster_import=roster_import,
            include_good_rows=request.POST.get("include_good_rows") == "on",
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("learning:roster_preview", public_id=roster_import.public_id)
    messages.success(
        request,
        f"Roster imported: {counts['people_created']} people added, "
        f"{counts['classes_created']} classes created, "
        f"{counts['enrolments_created']} class places filled.",
    )
    return redirect("learning:roster_preview", public_id=roster_import.public_id)
