"""What a guardian may read: the child's replies and the comments on them, nothing else."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from learning.models import Comment, MediaFile, Reply
from tenants.models import User


def feedback_for_student(*, student: User) -> QuerySet[Reply]:
    """`student`'s sent attempts, newest first, with their comments (two queries)."""
    return (
        Reply.objects.filter(student=student)
        .exclude(media__state=MediaFile.State.FAILED)
        .select_related("exercise", "reviewed_by")
        .prefetch_related(
            Prefetch(
                "comments",
                # Without the peer comments a teacher hid (learning.peer_review).
                queryset=Comment.objects.filter(
                    Q(peer__isnull=True) | Q(peer__hidden_at__isnull=True)
                )
                .select_related("author", "peer")
                .order_by("at_ms", "created_at"),
            )
        )
        .order_by("-created_at")
    )
