"""Co-teaching pages: the compare page's assignment control (its POST), and the admin portal's
open work per teacher (owners and admins)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_POST

from learning import page_parts, roles
from learning.coteachers import selectors, services
from learning.errors import DomainError, NotFound
from learning.models import Reply
from learning.pages import found, short_date
from learning.replies import selectors as reply_selectors
from tenants.decorators import forbidden, require_admin


def assign_context(*, reply: Reply) -> dict:
    """What the compare page's `_assign.html` shows a teacher: the reviewers to choose from."""

    def read() -> list[dict]:
        return [
            {"pk": m.user.pk, "public_id": m.user.public_id, "display_name": m.user.display_name}
            for m in selectors.reviewers_for(reply=reply)
        ]

    return {
        "reviewers": page_parts.value(f"reviewers:{reply.pk}", read),
        "assigned_to": reply.assigned_to,
    }


@require_POST
def reply_assign(request: HttpRequest, public_id) -> HttpResponse:
    """Assign the reply to a reviewer (`assignee`: a teacher's public id, empty for nobody)."""
    member = request.membership
    if not roles.is_teacher(member):
        return forbidden(request, "Only teachers assign replies.")
    reply = found(lambda: reply_selectors.reply_get(member=member, public_id=public_id))
    try:
        assignee = None
        if value := request.POST.get("assignee", "").strip():
            assignee = selectors.reviewer_get(reply=reply, public_id=_uuid_or_none(value))
        services.reply_assign(member=member, reply=reply, assignee=assignee)
    except (DomainError, NotFound) as error:
        messages.error(request, error.message)
    else:
        who = assignee.display_name if assignee is not None else "nobody"
        messages.success(request, f"Attempt {reply.attempt} is assigned to {who}.")
    return redirect("learning:compare", public_id=reply.public_id)


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@require_admin
@require_GET
def open_work(request: HttpRequest) -> HttpResponse:
    """Per teacher: the replies waiting that they can see, those assigned to them, the oldest."""
    now = timezone.now()
    rows = [
        {
            "name": m.user.display_name,
            "email": m.user.email,
            "role": m.get_role_display(),
            "waiting": m.waiting,
            "assigned": m.assigned,
            "oldest": short_date(m.oldest_at, year=True) if m.oldest_at else "",
            "waited": timesince(m.oldest_at, now) if m.oldest_at else "",
        }
        for m in selectors.open_work(tenant=request.tenant)
    ]
    return render(request, "learning/coteachers/open_work.html", {"rows": rows})
