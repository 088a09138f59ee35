"""Reads of the alignment feature: a reply's alignment, what stands in its way, and the
student's earlier attempts."""

from __future__ import annotations

from django.db.models import QuerySet

from learning.models import Alignment, MediaFile, Reply
from learning.querysets import unique_or_none

NO_DEMO = "The exercise has no demonstration to align to."
NO_DEMO_AUDIO = "The demonstration has no sound, so it cannot be aligned automatically."
NO_REPLY_AUDIO = "The reply has no sound, so it cannot be aligned automatically."
NOT_READY = "The recordings are still being processed."
FILE_MISSING = "A recording's file is missing, so it cannot be aligned automatically."
UNREADABLE = "The sound of a recording could not be read, so it cannot be aligned."


def alignment_blocker(*, reply: Reply) -> tuple[str, str] | None:
    """(status, reason) when the reply cannot be aligned as things stand, else None."""
    demo = reply.exercise.demo
    if demo is None:
        return Alignment.Status.NOT_ALIGNED, NO_DEMO
    if demo.state != MediaFile.State.READY or reply.media.state != MediaFile.State.READY:
        failed = MediaFile.State.FAILED in (demo.state, reply.media.state)
        return (Alignment.Status.NOT_ALIGNED, UNREADABLE) if failed else (
            Alignment.Status.PENDING, NOT_READY
        )
    if not demo.has_audio:
        return Alignment.Status.NOT_ALIGNED, NO_DEMO_AUDIO
    if not reply.media.has_audio:
        return Alignment.Status.NOT_ALIGNED, NO_REPLY_AUDIO
    return None


def alignment_status(*, reply: Reply) -> Alignment:
    """The reply's alignment as a view reports it, without writing: the stored row, or, before
    one exists, an unsaved row saying what stands in the way (or that it is pending)."""
    alignment = alignment_of(reply=reply)
    if alignment is not None:
        return alignment
    alignment = Alignment(reply=reply)
    blocker = alignment_blocker(reply=reply)
    if blocker is not None:
        alignment.status, alignment.reason = blocker
    return alignment


def alignment_of(*, reply: Reply) -> Alignment | None:
    return unique_or_none(Alignment.objects.filter(reply=reply))


def attempt_alignments(*, reply: Reply) -> QuerySet[Alignment]:
    """The ready alignments of every attempt by the same student at the same exercise, in
    attempt order: whether timing and pitch improve across attempts."""
    return (
        Alignment.objects.filter(
            reply__exercise_id=reply.exercise_id,
            reply__student_id=reply.student_id,
            status=Alignment.Status.READY,
        )
        .select_related("reply")
        .order_by("reply__attempt")
    )
