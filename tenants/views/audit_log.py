"""A tenant's audit log in its admin portal (owners and admins): the page, filtered and paged,
and the same rows as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tenants import forms, selectors
from tenants.decorators import require_admin
from tenants.models import AuditEvent

PAGE_SIZE = 50
CSV_COLUMNS = [
    "when",
    "action",
    "what",
    "who",
    "staff",
    "ip_address",
    "user_agent",
    "details",
]
# A cell a spreadsheet would read as a formula (a member's name or a reason can be anything).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filtered(request: HttpRequest) -> tuple[forms.AuditFilterForm, QuerySet[AuditEvent]]:
    form = forms.AuditFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_bound:
        form.is_valid()  # the valid filters apply; the page says why the others do not
        filters = form.cleaned_data
    events = selectors.audit_events(
        tenant=request.tenant,
        action=filters.get("action") or "",
        actor=filters.get("actor") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    return form, events


@require_admin
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tenants/manage/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=500):
        yield writer.writerow(
            [
                _cell(value)
                for value in (
                    event.created_at.isoformat(),
                    event.action,
                    event.label,
                    event.actor.email if event.actor else "",
                    event.impersonator.email if event.impersonator else "",
                    event.ip_address or "",
                    event.user_agent,
                    json.dumps(event.data, sort_keys=True, ensure_ascii=False),
                )
            ]
        )


@require_admin
@require_GET
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    """Every row the filters select (not only a page), streamed."""
    _, events = _filtered(request)
    response = StreamingHttpResponse(_rows(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-log-{request.tenant.slug}-{stamp}.csv"'
    )
    return response
