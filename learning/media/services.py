"""Writes of media files: processing an upload into playable renditions (with the pipeline in
learning.media.pipeline), recording a failure, and handing out short-lived playback URLs.

`media_process` is the Celery task's service (learning.media.tasks.process_media): probe,
check the plan's length limit, transcode, store the outputs, mark the media `ready` or
`failed`. It is safe to run again at any point.
"""

from __future__ import annotations

import logging
import mimetypes
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing import services as billing_services
from learning import storage
from learning.errors import LimitReached
from learning.jobs import leases
from learning.media import pipeline
from learning.models import MediaFile, Reply

logger = logging.getLogger(__name__)

# A media file whose processing started this many times without finishing (workers killed,
# transient failures) is given up on, so a file that crashes workers cannot loop for ever.
MAX_PROCESSING_ATTEMPTS = 5
OUTPUT_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".json": "application/json",
}


# A teacher's recorded comment (learning.media_comments) is a short note, not a performance:
# two minutes at most (the page's recorder stops there too). Other purposes have the site's
# PRACTIKA_MAX_MEDIA_SECONDS and the plan's limit.
COMMENT_MEDIA_MAX_SECONDS = 120


def max_seconds_for(media: MediaFile) -> float:
    """The longest recording of this purpose that processing accepts."""
    if media.purpose == MediaFile.Purpose.COMMENT:
        return min(COMMENT_MEDIA_MAX_SECONDS, settings.PRACTIKA_MAX_MEDIA_SECONDS)
    return settings.PRACTIKA_MAX_MEDIA_SECONDS


# The renditions processing makes now (learning.media.pipeline.transcoding): the only ones a
# page plays. Media processed by earlier versions may list others; they are never handed out.
PLAYED_RENDITIONS = ("720p", "audio")


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
            name: storage.playback_url(key, expires_s)
            for name, key in media.renditions.items()
            if name in PLAYED_RENDITIONS
        },
        poster=storage.playback_url(media.poster_key, expires_s) if media.poster_key else None,
        expires_at=timezone.now() + timedelta(seconds=expires_s),
    )


# --- Processing ---------------------------------------------------------------------------


def _begin_processing(media_id: int, token: str) -> MediaFile | None:
    """Claim the media for the run holding `token` and mark it `processing`, in its own short
    transaction, so that pages see it at once; None when there is nothing to do: the media is
    gone, done, not uploaded yet, or another live run holds its lease (a late redelivery of a
    message whose job the watchdog queued again; learning.jobs.leases)."""
    with transaction.atomic():
        media = MediaFile.objects.select_for_update().filter(pk=media_id).first()
        if media is None:
            logger.info("media %s is gone; nothing to process", media_id)
            return None
        if media.state not in (MediaFile.State.UPLOADED, MediaFile.State.PROCESSING):
            # ready or failed: a redelivered message; awaiting_upload: not ours to touch yet.
            logger.info("media %s is %s; nothing to process", media_id, media.state)
            return None
        if not leases.lease_claim(leases.MEDIA, media.pk, token):
            logger.info("media %s is being processed by another run; nothing to do", media_id)
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
    leases.lease_release(leases.MEDIA, media.pk)


def media_fail(*, media_id: int, message: str, token: str | None = None) -> None:
    """Give up on a media file with a message for the uploader (it may upload again); with
    `token`, only while no other live run holds it."""
    with transaction.atomic():
        media = MediaFile.objects.select_for_update().filter(pk=media_id).first()
        if media is None or media.state == MediaFile.State.READY:
            return
        if token is not None and not leases.lease_claimable(leases.MEDIA, media_id, token):
            logger.info("media %s: another run holds it; this run's failure is dropped", media_id)
            return
        _fail(media, message)


def _fail_run(media: MediaFile, message: str, token: str) -> MediaFile:
    media_fail(media_id=media.pk, message=message, token=token)
    media.refresh_from_db(fields=["state", "error_message"])
    return media


def media_lease_hold(*, media_id: int, token: str, seconds: float) -> None:
    """Keep the run's lease while its retry waits `seconds`, so the watchdog leaves it be."""
    leases.lease_extend(leases.MEDIA, media_id, token, seconds=seconds + leases.LEASE_S)


def media_process(*, media_id: int, token: str | None = None) -> MediaFile | None:
    """Probe, transcode and store the outputs of one upload; safe to run again at any point.

    `token` is the run's lease token (the task id): the run claims the media under it, renews
    it while it works and stores its result only if it still holds it.

    Outputs go to fixed keys beside the source (720p.mp4 or audio.m4a, poster.jpg,
    waveform.json) and are overwritten, so a rerun after a killed worker leaves one set.
    Raises storage.StorageUnavailable and transient MediaErrors for the task to retry;
    marks the media `failed` for everything that a retry cannot fix.
    """
    token = leases.lease_token(token)
    media = _begin_processing(media_id, token)
    if media is None:
        return None
    prefix = media.source_key.rsplit("/", 1)[0] + "/"
    with (
        leases.lease_kept(leases.MEDIA, media.pk, token),
        tempfile.TemporaryDirectory(prefix="practika-media-") as scratch,
    ):
        source = Path(scratch) / "source"
        try:
            storage.download(key=media.source_key, path=source)
        except storage.ObjectMissing:
            return _fail_run(media, "The uploaded file is missing. Please upload it again.", token)
        try:
            info = pipeline.probe(
                source,
                max_duration_s=max_seconds_for(media),
                max_bytes=settings.PRACTIKA_MAX_UPLOAD_BYTES,
            )
            # The plan's length limit, now that the real duration is known. Size 0: this
            # file's bytes already count towards the storage in use.
            billing_services.check_upload_allowed(
                tenant=connection.tenant,
                size_bytes=0,
                duration_s=info.duration_s,
                user=media.owner,
            )
            result = pipeline.transcode(source, Path(scratch) / "out", probe_result=info)
        except pipeline.MediaError as error:
            if error.transient:
                raise
            logger.info("media %s failed: %s (%s)", media_id, error.code, error.message)
            return _fail_run(media, error.message, token)
        except LimitReached as error:
            logger.info("media %s over a plan limit: %s", media_id, error.code)
            return _fail_run(media, error.message, token)
        how = ", ".join(result.reencode_reasons) or "browser-ready"
        logger.info("media %s: %s (%s)", media_id, "copied" if result.copied else "re-encoded", how)
        renditions = {}
        for rendition in result.renditions:
            renditions[rendition.name] = _store_output(rendition.path, prefix)
        poster_key = _store_output(result.poster, prefix) if result.poster else ""
        _store_output(result.waveform_path, prefix)
    with transaction.atomic():
        current = MediaFile.objects.select_for_update().filter(pk=media.pk).first()
        if current is None:  # deleted while we worked; its objects are being removed
            return None
        if current.state != MediaFile.State.PROCESSING or not leases.lease_held(
            leases.MEDIA, current.pk, token
        ):
            # Another run took the media over (this one's lease lapsed) or finished it first:
            # its result stands; the outputs this run wrote went to the same keys.
            logger.warning("media %s: lease lost; this run's result is dropped", media_id)
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
        leases.lease_release(leases.MEDIA, current.pk)
        logger.info("media %s ready (attempt %s)", media_id, current.processing_attempts)
        # Replies waiting on this recording (theirs or their demonstration) can be aligned now.
        from learning.alignment import services as alignment_services
        from learning.replies import services as reply_services

        waiting = Reply.objects.filter(Q(media=current) | Q(exercise__demo=current))
        for reply in waiting.select_related("exercise__demo", "exercise", "media"):
            if reply.media_id == current.pk:
                # An attempt counts, and reaches the teacher, once its recording is ready.
                reply_services.reply_recording_ready(reply=reply)
            alignment_services.alignment_request(reply=reply)
    return current


def _store_output(path: Path, prefix: str) -> str:
    key = f"{prefix}{path.name}"
    content_type = OUTPUT_CONTENT_TYPES.get(path.suffix) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    storage.upload(path=path, key=key, content_type=content_type)
    return key
