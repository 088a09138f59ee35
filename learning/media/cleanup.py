"""Removing stored objects no media file needs: the folders of deleted media, uploads
abandoned for a day, and temporary files left behind by killed processes (run per tenant by
learning.media.tasks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from learning import page_parts, storage
from learning.models import Exercise, MediaFile, Reply

logger = logging.getLogger(__name__)

# Orphan candidates younger than this are left for the next sweep (see media_sweep).
ORPHAN_GRACE_S = 3600


def stored_objects_delete(*, prefixes: list[str]) -> int:
    """Delete stored objects under media folders of the current tenant; others are refused."""
    deleted = 0
    media_root = f"{storage.tenant_prefix()}media/"
    for prefix in prefixes:
        if not (prefix.startswith(media_root) and prefix.endswith("/") and prefix != media_root):
            logger.error("refusing to delete %r: not a media folder of this tenant", prefix)
            continue
        try:
            deleted += storage.delete_prefix(prefix=prefix)
        except storage.KeyRefused:
            logger.error("refusing to delete %r", prefix)
    return deleted


@dataclass(frozen=True)
class SweepResult:
    stale_uploads: int
    orphaned_objects: int


def media_sweep(*, older_than_s: int = 24 * 3600) -> SweepResult:
    """Remove what no media file needs: uploads abandoned for a day, objects of deleted media,
    and temporary files left behind by killed processes."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    # upload_start creates its media row and its multipart upload in one transaction: for a
    # moment an upload exists whose row is not visible yet. Young things are left alone.
    young = now - timedelta(seconds=ORPHAN_GRACE_S)
    stale = 0
    for media in MediaFile.objects.filter(
        state=MediaFile.State.AWAITING_UPLOAD, created_at__lt=cutoff
    ):
        storage.multipart_abort(key=media.source_key)
        storage.delete_prefix(prefix=storage.media_prefix(media.public_id))
        Exercise.objects.filter(demo=media).update(demo=None)
        page_parts.bump()  # an update() sends no signal (learning.page_parts)
        if not Reply.objects.filter(media=media).exists():
            media.delete()
            stale += 1
    media_root = f"{storage.tenant_prefix()}media/"
    known = {str(pid) for pid in MediaFile.objects.values_list("public_id", flat=True)}
    orphans = 0
    swept: set[str] = set()
    for item in storage.list_objects(prefix=storage.tenant_prefix()):
        if item.key.startswith(media_root):
            media_id = item.key[len(media_root) :].split("/", 1)[0]
            if media_id in known or media_id in swept or item.modified >= young:
                continue
            swept.add(media_id)
            orphans += storage.delete_prefix(prefix=f"{media_root}{media_id}/")
        elif "/.incoming/" in item.key and item.modified < young:
            storage.delete_key(key=item.key)
            orphans += 1
    for pending in storage.pending_uploads(prefix=media_root):
        media_id = pending.key[len(media_root) :].split("/", 1)[0]
        if media_id not in known and pending.started < young:
            storage.multipart_abort(key=pending.key, upload_id=pending.upload_id)
            orphans += 1
    return SweepResult(stale_uploads=stale, orphaned_objects=orphans)
