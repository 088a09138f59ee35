"""Template tags of analytics: the bell's data and chart series."""

from __future__ import annotations

from django import template

from analytics import chrome, selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def notification_bell(context):
    """The bell of the member viewing the page, or None outside a tenant / when logged out."""
    request = context.get("request")
    if request is None or getattr(request, "membership", None) is None:
        return None
    page_chrome = getattr(request, "page_chrome", None)
    if page_chrome is None:
        return selectors.bell_for(user=request.user)
    return page_chrome.part(chrome.NAME, request)  # cached with the rest of the chrome


@register.simple_tag
def chart_data(weeks, fields: str) -> dict:
    """uPlot's data for weekly points: `fields` is "attr:Label,attr:Label"."""
    series = [pair.split(":", 1) for pair in fields.split(",")]
    return {
        "labels": [point.label for point in weeks],
        "series": [
            {"label": label, "values": [getattr(point, attr) for point in weeks]}
            for attr, label in series
        ],
        # The same figures row by row, for the table that stands in for the chart.
        "rows": [
            [point.label, *[getattr(point, attr) for attr, _ in series]] for point in weeks
        ],
    }


@register.filter
def duration_short(value) -> str:
    """A timedelta as "3 h 20 min" / "2 d 4 h"."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{round(value * 100)}%"
