"""Reads of the alignment feature."""

from __future__ import annotations

from django.db.models import QuerySet

from learning.models import Alignment, Reply


def alignment_of(*, reply: Reply) -> Alignment | None:
    return Alignment.objects.filter(reply=reply).first()


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
