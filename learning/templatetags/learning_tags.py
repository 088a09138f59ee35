"""Template helpers of the core-loop pages: safe Markdown, durations, statuses."""

from __future__ import annotations

from functools import lru_cache

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# What instructions may contain after rendering: text formatting, lists, links, code, tables.
# No images (they would load third-party URLs on students' devices), no raw HTML, no scripts.
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to insert into a page, whoever wrote the source."""
    return _render_markdown(text or "")


# A pure function of the text: each process keeps the last few hundred renderings, so an
# exercise's instructions are not parsed and sanitised again on every view of its page
# (a few ms each: the Markdown parser is built anew for every call).
@lru_cache(maxsize=512)
def _render_markdown(text: str) -> str:
    html = markdown_lib.markdown(text, extensions=["sane_lists", "tables"])
    # The sanitiser, not the Markdown renderer, is the security boundary: raw HTML written in
    # the source passes through Markdown unchanged and is cleaned here.
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    # Safe to mark: render_markdown sanitises with nh3 whatever the author wrote.
    return mark_safe(render_markdown(text))


@register.filter
def clock(seconds) -> str:
    """Seconds as m:ss (or h:mm:ss) for durations and time codes."""
    if seconds is None:
        return "-"
    total = round(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def clock_ms(milliseconds) -> str:
    """Milliseconds as m:ss.d, the precision of a comment's time code."""
    if milliseconds is None:
        return "-"
    tenths = int(milliseconds) // 100
    minutes, rest = divmod(tenths, 600)
    return f"{minutes}:{rest // 10:02d}.{rest % 10}"
