"""What every page of learning shares: the role decorators, a selector's NotFound as the page's
404, how a page plays a media file, and the helpers of pages that list many rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps

from django.http import Http404
from django.urls import reverse

from learning import roles
from learning.errors import NotFound
from learning.media import services as media_services
from learning.models import MediaFile
from tenants.decorators import forbidden


def teacher_page(view):
    """Owners, admins and teachers; students get a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.is_teacher(request.membership):
            return forbidden(request, "This page is for teachers.")
        return view(request, *args, **kwargs)

    return wrapper


def student_page(view):
    """Students only; teachers have their own pages for the same things."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.is_student(request.membership):
            return forbidden(request, "This page is for students.")
        return view(request, *args, **kwargs)

    return wrapper


def found(value_or_error):
    """Turn a selector's NotFound into the page's 404."""
    try:
        return value_or_error()
    except NotFound as error:
        raise Http404(error.message) from error


def media_sources(media: MediaFile | None) -> dict | None:
    """Where a page plays `media` from: short-lived signed URLs of its processed renditions
    (learning.media.services.media_playback, shared with the media API). None until it is ready."""
    playback = media_services.media_playback(media=media) if media is not None else None
    if playback is None or not playback.renditions:
        return None
    urls = playback.renditions
    main = urls.get("720p") or urls.get("audio") or next(iter(urls.values()))
    return {
        "src": main,
        "poster": playback.poster,
        "has_video": media.has_video,
        "duration": media.duration_s or 0,
    }


def media_state(media: MediaFile | None) -> dict:
    if media is None:
        return {"state": "", "label": "No recording", "error": ""}
    return {
        "public_id": str(media.public_id),
        "state": media.state,
        "label": media.get_state_display(),
        "error": media.error_message,
    }


def waveform(media: MediaFile | None) -> dict:
    """The timeline's peaks in one shape, whatever shape processing stored."""
    data = getattr(media, "waveform", None) or []
    if isinstance(data, dict):
        return {"peaks": data.get("peaks", []), "peaks_per_second": data.get("peaks_per_second")}
    return {"peaks": data, "peaks_per_second": None}


# --- Lists: rows worked out in the view ------------------------------------------------------
# A list page builds plain rows with its links and dates already written out: 50 model rows
# through template lookups, `{% url %}`, `date` and `timesince` cost most of a list page's CPU
# (docs/scaling.md).

_ANY_ID = uuid.UUID(int=0)


def id_path(name: str) -> Callable[[object], str]:
    """`reverse(name, args=[public_id])` for many rows: reversed once, then filled in."""
    prefix, suffix = reverse(name, args=[_ANY_ID]).split(str(_ANY_ID))
    return lambda public_id: f"{prefix}{public_id}{suffix}"
