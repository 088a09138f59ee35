"""The upload flow and media processing: browsers upload straight to storage, then a worker
turns the upload into playable renditions.

    upload_start     checks limits, creates the MediaFile (awaiting_upload), starts a multipart
                     upload and hands out one URL per part (presigned S3 or the local endpoint)
    upload_part_put  local mode only: stores one part sent to the local endpoint
    upload_complete  joins the parts, marks the media `uploaded`, queues processing on commit
    upload_abort     the person cancelled: frees the parts and forgets the media file
    media_process    the Celery task's service: probe, transcode, store, mark `ready`/`failed`

An upload is addressed by a signed *upload token* (media id, storage upload id, tenant, part
plan, expiry), so the storage upload id never needs a column and a token cannot be replayed on
another tenant's host. Inside a tenant's schema the tenant is implicit, as everywhere in
`learning`.
"""

from __future__ import annotations

import logging
import mimetypes
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing import services as billing_services
from learning import media as media_pipeline
from learning import roles, selectors, storage
from learning.errors import LimitReached, NotFound, PermissionDenied, UploadRejected
from learning.media.probing import format_bytes
from learning.models import Exercise, MediaFile, Reply

logger = logging.getLogger(__name__)

UPLOAD_TOKEN_SALT = "practika.uploads.upload"  # noqa: S105 - a namespace, not a secret
MAX_FILENAME_CHARS = 255
# A media file whose processing started this many times without finishing (workers killed,
# transient failures) is given up on, so a file that crashes workers cannot loop for ever.
MAX_PROCESSING_ATTEMPTS = 5
# Orphan candidates younger than this are left for the next sweep (see media_sweep).
ORPHAN_GRACE_S = 3600
OUTPUT_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".json": "application/json",
}


@dataclass(frozen=True)
class UploadTicket:
    """What a browser needs to send a file straight to storage."""

    media: MediaFile
    token: str
    part_size: int
    part_urls: list[str]
    expires_at: datetime


@dataclass(frozen=True)
class UploadGrant:
    """A verified upload token."""

    media: MediaFile
    upload_id: str
    part_size: int
    part_count: int
    expires_at: datetime


def _now() -> float:
    return time.time()


# --- Limits -------------------------------------------------------------------------------


def upload_allowed(*, membership, size: int) -> None:
    """Raise LimitReached when `membership` may not upload `size` bytes now.

    The site-wide size limit first, then the plan's (storage quota, read-only tenants), which
    billing decides. Checked again with the real duration once the file is probed.
    """
    limit = settings.PRACTIKA_MAX_UPLOAD_BYTES
    if size > limit:
        raise LimitReached(
            f"This file is {format_bytes(size)}; "
            f"the limit is {format_bytes(limit)}.",
            code="file_too_large",
        )
    user = getattr(membership, "user", None)
    billing_services.check_upload_allowed(tenant=connection.tenant, size_bytes=size, user=user)


# --- Tokens -------------------------------------------------------------------------------


def _upload_token(*, media: MediaFile, upload_id: str, part_size: int, count: int, exp: int):
    payload = {
        "m": str(media.public_id), "u": upload_id, "t": str(connection.tenant.public_id),
        "p": part_size, "n": count, "e": exp,
    }
    return signing.dumps(payload, salt=UPLOAD_TOKEN_SALT, compress=True)


def upload_grant(*, token: str) -> UploadGrant:
    """Verify an upload token for the current tenant; raise PermissionDenied if it is not."""
    try:
        payload = signing.loads(token, salt=UPLOAD_TOKEN_SALT)
    except signing.BadSignature as error:
        raise PermissionDenied("This upload link is not valid.", code="upload_token_invalid") from (
            error
        )
    if payload.get("t") != str(connection.tenant.public_id):
        raise PermissionDenied("This upload link is not valid here.", code="upload_token_invalid")
    if payload["e"] < _now():
        raise PermissionDenied(
            "This upload link has expired. Start the upload again.", code="upload_token_expired"
        )
    media = MediaFile.objects.filter(public_id=payload["m"]).first()
    if media is None:
        raise NotFound("This upload was cancelled.", code="upload_not_found")
    return UploadGrant(
        media=media, upload_id=payload["u"], part_size=payload["p"], part_count=payload["n"],
        expires_at=datetime.fromtimestamp(payload["e"], tz=UTC),
    )


def _own_grant(*, actor, token: str) -> UploadGrant:
    grant = upload_grant(token=token)
    if actor is None or grant.media.owner_id != actor.user_id:
        raise PermissionDenied("This upload belongs to someone else.", code="upload_forbidden")
    return grant


# --- The upload flow ----------------------------------------------------------------------


@transaction.atomic
def upload_start(
    *, actor, purpose: str, filename: str, size: int, content_type: str = ""
) -> UploadTicket:
    """Check the limits, create the media file and start a multipart upload to storage."""
    if purpose not in MediaFile.Purpose.values:
        raise UploadRejected("Upload a demonstration or a reply.", code="purpose_invalid")
    if purpose == MediaFile.Purpose.DEMONSTRATION:
        roles.require_teacher(actor)
    elif actor is None:
        raise PermissionDenied("Only members can upload.", code="members_only")
    if size < 0:
        raise UploadRejected("The file size is not valid.", code="size_invalid")
    upload_allowed(membership=actor, size=size)
    media = MediaFile(
        owner=actor.user, purpose=purpose, declared_bytes=size,
        original_name=Path(filename or "").name[:MAX_FILENAME_CHARS],
    )
    media.source_key = f"{storage.media_prefix(media.public_id)}source"
    media.save()
    part_size = storage.part_size_for(size)
    count = storage.part_count(size, part_size)
    # The content type is stored as a hint; processing never trusts it and probes the bytes.
    upload_id = storage.multipart_start(key=media.source_key, content_type=content_type[:100])
    expires_s = settings.PRACTIKA_UPLOAD_URL_EXPIRES_S
    exp = int(_now()) + expires_s
    token = _upload_token(
        media=media, upload_id=upload_id, part_size=part_size, count=count, exp=exp
    )
    urls = storage.part_upload_urls(
        key=media.source_key, upload_id=upload_id, token=token, count=count, expires_s=expires_s
    )
    return UploadTicket(
        media=media, token=token, part_size=part_size, part_urls=urls,
        expires_at=datetime.fromtimestamp(exp, tz=UTC),
    )


def upload_part_put(*, token: str, number: int, stream: BinaryIO) -> str:
    """Store one part that a browser sent to the local upload endpoint; return its ETag."""
    grant = upload_grant(token=token)
    if grant.media.state != MediaFile.State.AWAITING_UPLOAD:
        raise UploadRejected("This upload is already complete.", code="upload_finished")
    if not 1 <= number <= grant.part_count:
        raise UploadRejected(f"Part {number} is not part of this upload.", code="part_invalid")
    try:
        return storage.multipart_put_part(
            key=grant.media.source_key, upload_id=grant.upload_id, number=number, stream=stream,
            max_bytes=grant.part_size,
        )
    except storage.ObjectMissing as error:
        raise NotFound("This upload was cancelled.", code="upload_not_found") from error
    except storage.PartsInvalid as error:
        raise UploadRejected(str(error), code="part_too_large") from error


def upload_parts(*, actor, token: str) -> tuple[UploadGrant, list[storage.StoredPart]]:
    """The parts stored so far, so that an interrupted upload resumes instead of restarting."""
    grant = _own_grant(actor=actor, token=token)
    if grant.media.state != MediaFile.State.AWAITING_UPLOAD:
        return grant, []
    try:
        parts = storage.multipart_parts(key=grant.media.source_key, upload_id=grant.upload_id)
    except storage.ObjectMissing as error:
        raise NotFound("This upload was cancelled.", code="upload_not_found") from error
    return grant, parts


def upload_part_urls(*, grant: UploadGrant, token: str) -> list[str]:
    """Fresh part URLs for an upload still in progress, valid as long as its token."""
    if grant.media.state != MediaFile.State.AWAITING_UPLOAD:
        return []
    seconds_left = max(1, int(grant.expires_at.timestamp() - _now()))
    return storage.part_upload_urls(
        key=grant.media.source_key, upload_id=grant.upload_id, token=token,
        count=grant.part_count, expires_s=seconds_left,
    )


@transaction.atomic
def upload_complete(*, actor, token: str, parts: list[tuple[int, str]]) -> MediaFile:
    """Join the uploaded parts, mark the media file `uploaded` and queue its processing."""
    grant = _own_grant(actor=actor, token=token)
    # Lock the row: a browser that retries "complete" after a lost response must not queue
    # processing twice.
    media = MediaFile.objects.select_for_update().get(pk=grant.media.pk)
    if media.state != MediaFile.State.AWAITING_UPLOAD:
        return media  # completed already: answering again is harmless
    if not parts:
        raise UploadRejected("No parts were uploaded.", code="parts_missing")
    try:
        storage.multipart_complete(key=media.source_key, upload_id=grant.upload_id, parts=parts)
    except storage.PartsInvalid as error:
        raise UploadRejected(
            "Some parts of the file did not arrive intact. Try uploading again.",
            code="parts_invalid",
        ) from error
    except storage.ObjectMissing as error:
        # S3 forgets an upload once completed: a retried request finds the object instead.
        if storage.object_size(media.source_key) is None:
            raise NotFound("This upload was cancelled.", code="upload_not_found") from error
    size = storage.object_size(media.source_key) or 0
    media.size_bytes = size
    fields = ["size_bytes", "state", "updated_at"]
    if size > settings.PRACTIKA_MAX_UPLOAD_BYTES:
        # Presigned part URLs cannot cap what a client sends: check what actually arrived.
        media.state = MediaFile.State.FAILED
        media.error_message = (
            f"This file is {format_bytes(size)}; the limit is "
            f"{format_bytes(settings.PRACTIKA_MAX_UPLOAD_BYTES)}."
        )
        media.save(update_fields=[*fields, "error_message"])
        prefix = storage.media_prefix(media.public_id)
        transaction.on_commit(lambda: storage.delete_prefix(prefix=prefix))
        return media
    media.state = MediaFile.State.UPLOADED
    media.save(update_fields=fields)
    from learning import tasks

    media_id = media.pk
    transaction.on_commit(lambda: tasks.process_media.delay(media_id))
    return media


@transaction.atomic
def upload_abort(*, actor, token: str) -> None:
    """Cancel an upload in progress: free its parts in storage and forget the media file."""
    grant = _own_grant(actor=actor, token=token)
    media = MediaFile.objects.select_for_update().get(pk=grant.media.pk)
    if media.state != MediaFile.State.AWAITING_UPLOAD:
        raise UploadRejected("This upload is already complete.", code="upload_finished")
    storage.multipart_abort(key=media.source_key, upload_id=grant.upload_id)
    Exercise.objects.filter(demo=media).update(demo=None)
    media.delete()


# --- Reading media for playback -----------------------------------------------------------


def media_visible_to(*, membership) -> QuerySet[MediaFile]:
    """Media a member may play: teachers all; students their own uploads, their replies,
    and the demonstrations of exercises assigned to them."""
    if roles.is_teacher(membership):
        return MediaFile.objects.all()
    if membership is None:
        return MediaFile.objects.none()
    user = membership.user
    demos = selectors.exercises_for_student(student=user).values("demo_id")
    replies = Reply.objects.filter(student=user).values("media_id")
    return MediaFile.objects.filter(Q(owner=user) | Q(pk__in=demos) | Q(pk__in=replies))


def media_get(*, membership, public_id) -> MediaFile:
    media = media_visible_to(membership=membership).filter(public_id=public_id).first()
    if media is None:
        raise NotFound("This recording does not exist or is not yours.", code="media_not_found")
    return media


@dataclass(frozen=True)
class Playback:
    renditions: dict[str, str]
    poster: str | None
    expires_at: datetime


def media_playback(*, media: MediaFile, expires_s: int | None = None) -> Playback | None:
    """Short-lived URLs for a ready media file's renditions and poster (None until ready)."""
    if media.state != MediaFile.State.READY:
        return None
    expires_s = expires_s or settings.PRACTIKA_PLAYBACK_URL_EXPIRES_S
    return Playback(
        renditions={
            name: storage.playback_url(key, expires_s) for name, key in media.renditions.items()
        },
        poster=storage.playback_url(media.poster_key, expires_s) if media.poster_key else None,
        expires_at=timezone.now() + timedelta(seconds=expires_s),
    )


# --- Processing ---------------------------------------------------------------------------


def _begin_processing(media_id: int) -> MediaFile | None:
    """Mark the media `processing` in its own short transaction, so that pages (and a
    redelivered task after a killed worker) see it at once; None when there is nothing to do."""
    with transaction.atomic():
        media = MediaFile.objects.select_for_update().filter(pk=media_id).first()
        if media is None:
            logger.info("media %s is gone; nothing to process", media_id)
            return None
        if media.state not in (MediaFile.State.UPLOADED, MediaFile.State.PROCESSING):
            # ready or failed: a redelivered message; awaiting_upload: not ours to touch yet.
            logger.info("media %s is %s; nothing to process", media_id, media.state)
            return None
        media.processing_attempts += 1
        if media.processing_attempts > MAX_PROCESSING_ATTEMPTS:
            _fail(media, "We could not process this recording. Please upload it again.")
            return None
        media.state = MediaFile.State.PROCESSING
        media.error_message = ""
        media.save(update_fields=["state", "processing_attempts", "error_message", "updated_at"])
        return media


def _fail(media: MediaFile, message: str) -> None:
    media.state = MediaFile.State.FAILED
    media.error_message = message[:500]
    media.save(update_fields=["state", "error_message", "updated_at"])


def media_fail(*, media_id: int, message: str) -> None:
    """Give up on a media file with a message for the uploader (it may upload again)."""
    with transaction.atomic():
        media = MediaFile.objects.select_for_update().filter(pk=media_id).first()
        if media is not None and media.state != MediaFile.State.READY:
            _fail(media, message)


def media_process(*, media_id: int) -> MediaFile | None:
    """Probe, transcode and store the outputs of one upload; safe to run again at any point.

    Outputs go to fixed keys beside the source (720p.mp4, 360p.mp4 or audio.m4a, poster.jpg,
    waveform.json) and are overwritten, so a rerun after a killed worker leaves one set.
    Raises storage.StorageUnavailable and transient MediaErrors for the task to retry;
    marks the media `failed` for everything that a retry cannot fix.
    """
    media = _begin_processing(media_id)
    if media is None:
        return None
    prefix = media.source_key.rsplit("/", 1)[0] + "/"
    with tempfile.TemporaryDirectory(prefix="practika-media-") as scratch:
        source = Path(scratch) / "source"
        try:
            storage.download(key=media.source_key, path=source)
        except storage.ObjectMissing:
            _fail(media, "The uploaded file is missing. Please upload it again.")
            return media
        try:
            info = media_pipeline.probe(
                source,
                max_duration_s=settings.PRACTIKA_MAX_MEDIA_SECONDS,
                max_bytes=settings.PRACTIKA_MAX_UPLOAD_BYTES,
            )
            # The plan's length limit, now that the real duration is known. Size 0: this
            # file's bytes already count towards the storage in use.
            billing_services.check_upload_allowed(
                tenant=connection.tenant, size_bytes=0, duration_s=info.duration_s, user=media.owner
            )
            result = media_pipeline.transcode(source, Path(scratch) / "out", probe_result=info)
        except media_pipeline.MediaError as error:
            if error.transient:
                raise
            logger.info("media %s failed: %s (%s)", media_id, error.code, error.message)
            _fail(media, error.message)
            return media
        except LimitReached as error:
            logger.info("media %s over a plan limit: %s", media_id, error.code)
            _fail(media, error.message)
            return media
        renditions = {}
        for rendition in result.renditions:
            renditions[rendition.name] = _store_output(rendition.path, prefix)
        poster_key = _store_output(result.poster, prefix) if result.poster else ""
        _store_output(result.waveform_path, prefix)
    with transaction.atomic():
        current = MediaFile.objects.select_for_update().filter(pk=media.pk).first()
        if current is None:  # deleted while we worked; its objects are being removed
            return None
        current.renditions = renditions
        current.poster_key = poster_key
        current.waveform = list(result.waveform.peaks)
        current.duration_s = info.duration_s
        current.has_video = info.has_video
        current.has_audio = info.has_audio
        current.width = info.display_width
        current.height = info.display_height
        current.size_bytes = info.size_bytes
        current.state = MediaFile.State.READY
        current.error_message = ""
        current.processed_at = timezone.now()
        current.save()
        # Replies waiting on this recording (theirs or their demonstration) can be aligned now.
        from learning.alignment import services as alignment_services

        waiting = Reply.objects.filter(Q(media=current) | Q(exercise__demo=current))
        for reply in waiting.select_related("exercise__demo", "media"):
            alignment_services.alignment_request(reply=reply)
    return current


def _store_output(path: Path, prefix: str) -> str:
    key = f"{prefix}{path.name}"
    content_type = OUTPUT_CONTENT_TYPES.get(path.suffix) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    storage.upload(path=path, key=key, content_type=content_type)
    return key


# --- Deleting and sweeping ----------------------------------------------------------------


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
