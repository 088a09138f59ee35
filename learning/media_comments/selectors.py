"""Reads for comment recordings: what the compare page's recorder needs to know."""

from __future__ import annotations

from django.conf import settings

from learning import roles
from learning.media.services import COMMENT_MEDIA_MAX_SECONDS
from tenants.models import Membership


def recorder_for(*, member: Membership) -> dict | None:
    """The compare page's note recorder (templates/learning/compare/_media_comment.html): for
    teachers only, with the longest note and the largest upload accepted."""
    if not roles.is_teacher(member):
        return None
    return {
        "max_seconds": min(COMMENT_MEDIA_MAX_SECONDS, settings.PRACTIKA_MAX_MEDIA_SECONDS),
        "max_bytes": settings.PRACTIKA_MAX_UPLOAD_BYTES,
    }
