"""`/guardian/<token>/feedback/`: open to the holder of the guardian's signed link while the
consent it names is given (withdrawing it changes the link's nonce, so the view closes)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from learning.guardians import selectors
from tenants.errors import NotFound
from tenants.services import guardian_consent
from tenants.views.common import link_invalid


@require_GET
def guardian_feedback(request: HttpRequest, token: str) -> HttpResponse:
    try:
        consent = guardian_consent.guardian_consent_from_token(tenant=request.tenant, token=token)
    except NotFound as error:
        return link_invalid(request, error)
    if not consent.is_given:
        return link_invalid(
            request, NotFound("Give consent first, on the page this link opened.", "no_consent")
        )
    student = guardian_consent.guardian_consent_student(consent=consent)
    replies = selectors.feedback_for_student(student=student) if student else []
    response = render(
        request,
        "learning/guardian/feedback.html",
        {"consent": consent, "student": student, "replies": replies, "token": token},
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
