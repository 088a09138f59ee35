"""Writes of the alignment feature: queue, compute and store an Alignment; hide its
feedback from the student.

The analysis runs outside any transaction (seconds of CPU must not hold row locks); its
result is written in a short one that re-reads the row. Everything a person can cause (no
audio, an unrelated take, a missing file, unreadable sound) ends in `not_aligned` with a
sentence for the compare page; only storage outages escape, for the task to retry.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from learning import roles, storage
from learning.alignment.selectors import (  # the reasons are read there, written here
    FILE_MISSING,
    UNREADABLE,
    alignment_blocker,
)
from learning.jobs import leases
from learning.media.pipeline import MediaError
from learning.models import Alignment, MediaFile, Reply
from tenants.models import Membership

logger = logging.getLogger(__name__)

# Smallest first: the analysis needs only the sound, at 22,050 Hz mono.
AUDIO_SOURCES = ("audio", "720p")
DECODE_TIMEOUT_S = 180.0

CRASHED = "Automatic alignment failed. Use the manual sync instead."


def _audio_key(media: MediaFile) -> str:
    for name in AUDIO_SOURCES:
        if media.renditions.get(name):
            return media.renditions[name]
    return media.source_key


def _is_current(alignment: Alignment, reply: Reply, algorithm: str) -> bool:
    demo = reply.exercise.demo
    return (
        alignment.status in (Alignment.Status.READY, Alignment.Status.NOT_ALIGNED)
        and alignment.algorithm == algorithm
        and demo is not None
        and alignment.demo_media_public_id == demo.public_id
        and alignment.reply_media_public_id == reply.media.public_id
    )


@transaction.atomic
def alignment_request(*, reply: Reply) -> Alignment:
    """The reply's alignment, queued for analysis once its recordings allow it.

    Called by the writes that make an analysis possible (a reply sent, a recording
    processed); views only read (selectors.alignment_status). It queues only for a new row,
    for a row that was waiting on processing, and for a result computed from another
    demonstration, so calling it twice queues once.
    """
    from learning.alignment import tasks

    alignment, created = Alignment.objects.get_or_create(reply=reply)
    if not created:
        alignment = Alignment.objects.select_for_update().get(pk=alignment.pk)
    demo = reply.exercise.demo
    stale = (
        alignment.status != Alignment.Status.PENDING
        and demo is not None
        and alignment.demo_media_public_id not in (None, demo.public_id)
    )
    waiting = alignment.status == Alignment.Status.PENDING and (created or alignment.reason)
    if not (waiting or stale):
        return alignment  # computed and current, or already queued
    blocker = alignment_blocker(reply=reply)
    if blocker is not None:
        alignment.status, alignment.reason = blocker
    else:
        alignment.status, alignment.reason = Alignment.Status.PENDING, ""
        reply_id = reply.pk
        transaction.on_commit(lambda: tasks.align_reply.delay(reply_id))
    alignment.save(update_fields=["status", "reason", "updated_at"])
    # A run still busy with the old inputs loses its lease: the new message's run wins.
    leases.lease_release(leases.ALIGNMENT, reply.pk)
    return alignment


@transaction.atomic
def alignment_recompute(*, reply: Reply) -> Alignment:
    """Queue the analysis again, even if a current result exists (teachers' retry)."""
    from learning.alignment import tasks

    alignment, _ = Alignment.objects.get_or_create(reply=reply)
    alignment.status = Alignment.Status.PENDING
    alignment.reason = ""
    alignment.save(update_fields=["status", "reason", "updated_at"])
    leases.lease_release(leases.ALIGNMENT, reply.pk)  # the new message's run wins
    reply_id = reply.pk
    transaction.on_commit(lambda: tasks.align_reply.delay(reply_id, force=True))
    return alignment


def _store(
    alignment_id: int, token: str | None, *, unclaimed: bool = False, **fields
) -> Alignment:
    """Write a run's result, if the run holding `token` still holds the alignment (with
    `unclaimed`, also if no live run holds it; without a token, always)."""
    with transaction.atomic():
        alignment = Alignment.objects.select_for_update().get(pk=alignment_id)
        reply_id = alignment.reply_id
        ours = (
            token is None
            or leases.lease_held(leases.ALIGNMENT, reply_id, token)
            or (unclaimed and leases.lease_claimable(leases.ALIGNMENT, reply_id, token))
        )
        if not ours:
            # Requested again (a new demonstration, a teacher's retry) or taken over by the
            # watchdog's run after this one's lease lapsed: that run's result is the one to keep.
            logger.info("alignment %s: lease lost; this run's result is dropped", alignment_id)
            return alignment
        for name, value in fields.items():
            setattr(alignment, name, value)
        alignment.runs += 1
        alignment.computed_at = timezone.now()
        alignment.save()
        leases.lease_release(leases.ALIGNMENT, reply_id)
    return alignment


def _claim(alignment_id: int, token: str) -> bool:
    """Take the alignment's lease for the run holding `token`, unless another run holds it."""
    with transaction.atomic():
        alignment = Alignment.objects.select_for_update().get(pk=alignment_id)
        return leases.lease_claim(leases.ALIGNMENT, alignment.reply_id, token)


def alignment_compute(
    *, reply_id: int, force: bool = False, token: str | None = None
) -> Alignment | None:
    """Compute and store the alignment of one reply; a current result is kept (idempotent).

    `token` is the run's lease token (the task id; learning.jobs.leases). Returns None when
    the reply no longer exists or another run is computing it. Raises
    storage.StorageUnavailable only.
    """
    from learning.alignment import engine  # numpy, numba: only where the work happens

    reply = Reply.objects.select_related("exercise__demo", "media").filter(pk=reply_id).first()
    if reply is None:
        return None
    alignment, _ = Alignment.objects.get_or_create(reply=reply)
    if not force and _is_current(alignment, reply, engine.ALGORITHM):
        return alignment
    token = leases.lease_token(token)
    if not _claim(alignment.pk, token):
        logger.info("alignment of reply %s is being computed by another run", reply_id)
        return None
    demo = reply.exercise.demo
    inputs = {
        "demo_media_public_id": demo.public_id if demo else None,
        "reply_media_public_id": reply.media.public_id,
        "algorithm": engine.ALGORITHM,
    }
    blocker = alignment_blocker(reply=reply)
    if blocker is not None:
        status, reason = blocker
        return _store(alignment.pk, token, status=status, reason=reason, **_empty(), **inputs)
    try:
        with leases.lease_kept(leases.ALIGNMENT, reply.pk, token):
            result = _analyse(demo, reply.media, engine)
    except storage.ObjectMissing:
        logger.info("alignment of reply %s: a recording's file is missing", reply_id)
        return _store(alignment.pk, token, status=Alignment.Status.NOT_ALIGNED, reason=FILE_MISSING,
                      **_empty(), **inputs)
    except MediaError as error:
        if error.transient:
            raise
        logger.info("alignment of reply %s: unreadable sound: %s", reply_id, error.message)
        return _store(alignment.pk, token, status=Alignment.Status.NOT_ALIGNED, reason=UNREADABLE,
                      **_empty(), **inputs)
    if not result.aligned:
        fields = {**_empty(), "confidence": result.confidence}
        return _store(alignment.pk, token, status=Alignment.Status.NOT_ALIGNED,
                      reason=result.reason, **fields, **inputs)
    return _store(
        alignment.pk,
        token,
        status=Alignment.Status.READY,
        reason="",
        time_map=result.time_map.as_json(),
        confidence=result.confidence,
        transposition_semitones=result.transposition,
        bands=result.bands,
        summary=result.summary,
        **inputs,
    )


def _empty() -> dict:
    return {"time_map": {}, "bands": [], "summary": {}, "confidence": None,
            "transposition_semitones": 0}


def _analyse(demo: MediaFile, reply_media: MediaFile, engine):
    with tempfile.TemporaryDirectory(prefix="practika-align-") as scratch:
        demo_path = Path(scratch) / "demo"
        reply_path = Path(scratch) / "reply"
        storage.download(key=_audio_key(demo), path=demo_path)
        storage.download(key=_audio_key(reply_media), path=reply_path)
        return engine.analyse_files(demo_path, reply_path, timeout_s=DECODE_TIMEOUT_S)


def alignment_fail(*, reply_id: int, reason: str = CRASHED, token: str | None = None) -> None:
    """Give up on a reply's alignment with a reason for the compare page; with `token`, only
    while that run still holds it."""
    reply = Reply.objects.filter(pk=reply_id).first()
    if reply is None:
        return
    alignment, _ = Alignment.objects.get_or_create(reply=reply)
    # A run may fail before it claimed the alignment: it may record that on a free row.
    _store(alignment.pk, token, unclaimed=True, status=Alignment.Status.FAILED, reason=reason)


def alignment_lease_hold(*, reply_id: int, token: str, seconds: float) -> None:
    """Keep the run's lease while its retry waits `seconds`, so the watchdog leaves it be."""
    leases.lease_extend(leases.ALIGNMENT, reply_id, token, seconds=seconds + leases.LEASE_S)


@transaction.atomic
def alignment_set_visibility(
    *, member: Membership, alignment: Alignment, visible: bool
) -> Alignment:
    """Show or hide the timing and pitch feedback from the student (teachers only)."""
    roles.require_teacher(member)
    alignment.visible_to_student = visible
    alignment.save(update_fields=["visible_to_student", "updated_at"])
    return alignment
