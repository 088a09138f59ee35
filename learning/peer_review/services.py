"""Writes of peer review: the teacher's settings on an exercise, handing out classmates'
replies to review, recording a peer comment, and hiding one.

When replies are handed out: each time a reply's recording is ready (the moment it is sent
for real: a draft whose recording failed never counts), and when a teacher turns peer review
on or raises N. Both run `peer_reviews_assign` for the whole exercise, which gives every
student who has sent a reply up to N classmates' replies, so a student who got fewer than N
(not enough classmates had replied yet) is topped up as soon as the next reply arrives. The
review list only reads (GET handlers never write).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from learning import page_parts, roles
from learning.errors import DomainError, PermissionDenied
from learning.models import (
    Classroom,
    Comment,
    Exercise,
    MediaFile,
    PeerComment,
    PeerReview,
    Reply,
)
from learning.peer_review import selectors
from tenants.models import Membership, Role

MAX_PEER_REVIEWS = 10


@transaction.atomic
def peer_review_configure(
    *, member: Membership, exercise: Exercise, count: int, anonymous: bool
) -> Exercise:
    """Set how many classmates' replies each student reviews (0: none) and whether names are
    hidden; replies already sent are handed out at once."""
    roles.require_teacher(member)
    if not 0 <= count <= MAX_PEER_REVIEWS:
        raise DomainError(
            f"Ask for between 0 and {MAX_PEER_REVIEWS} peer reviews.", code="peer_count_invalid"
        )
    exercise.peer_review_count = count
    exercise.peer_review_anonymous = anonymous
    exercise.save(update_fields=["peer_review_count", "peer_review_anonymous", "updated_at"])
    peer_reviews_assign(exercise=exercise)
    return exercise


def _students_of(exercise: Exercise) -> Q:
    """Replies by students the exercise is for, who are still students of this tenant."""
    students = Membership.objects.filter(tenant_id=connection.tenant.pk, role=Role.STUDENT).values(
        "user_id"
    )
    rule = Q(student_id__in=students)
    if not exercise.assign_to_all:
        direct = Exercise.assigned_students.through.objects.filter(exercise=exercise)
        classes = Classroom.students.through.objects.filter(
            classroom__in=exercise.assigned_classes.all()
        )
        rule &= Q(student_id__in=direct.values("user_id")) | Q(
            student_id__in=classes.values("user_id")
        )
    return rule


@transaction.atomic
def peer_reviews_assign(*, exercise: Exercise) -> list[PeerReview]:
    """Give every student with a sent reply up to N classmates' replies: never their own,
    never the same classmate twice, the classmates with the fewest reviewers so far first.
    Replies are balanced among those sent by each hand-out: the last students to reply may
    get fewer than N reviewers, as everyone before them already has their N.

    The exercise row is locked for the whole hand-out, so two replies ready at once (two
    workers, two requests) hand out one after the other and cannot give anyone more than N;
    the unique constraint (exercise, reviewer, reviewee) holds the rest in the database."""
    exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
    wanted = exercise.peer_review_count
    if wanted == 0 or exercise.status != Exercise.Status.PUBLISHED:
        return []
    # Each student's latest sent attempt is what their classmates review.
    latest: dict[int, tuple[int, object]] = {}
    for reply_id, student_id, sent_at in (
        Reply.objects.filter(exercise=exercise, media__state=MediaFile.State.READY)
        .filter(_students_of(exercise))
        .order_by("student_id", "-attempt")
        .distinct("student_id")
        .values_list("pk", "student_id", "created_at")
    ):
        latest[student_id] = (reply_id, sent_at)
    given: dict[int, set[int]] = defaultdict(set)
    received: Counter[int] = Counter()
    for reviewer_id, reviewee_id in PeerReview.objects.filter(exercise=exercise).values_list(
        "reviewer_id", "reviewee_id"
    ):
        given[reviewer_id].add(reviewee_id)
        received[reviewee_id] += 1
    new: list[PeerReview] = []
    # Who replied first chooses first. Among classmates with as few reviewers, the next ones
    # after the reviewer in that order come first: handed out at once, that is the rotation
    # (each reviews the next N), which gives every reply N reviewers.
    order = sorted(latest, key=lambda s: (latest[s][1], s))
    place = {student_id: i for i, student_id in enumerate(order)}
    for reviewer_id in order:
        need = wanted - len(given[reviewer_id])
        if need <= 0:
            continue
        candidates = sorted(
            (s for s in order if s != reviewer_id and s not in given[reviewer_id]),
            key=lambda s: (received[s], (place[s] - place[reviewer_id]) % len(order)),
        )
        for reviewee_id in candidates[:need]:
            new.append(
                PeerReview(
                    exercise=exercise,
                    reviewer_id=reviewer_id,
                    reply_id=latest[reviewee_id][0],
                    reviewee_id=reviewee_id,
                )
            )
            given[reviewer_id].add(reviewee_id)
            received[reviewee_id] += 1
    if new:
        PeerReview.objects.bulk_create(new)
        page_parts.bump()  # a bulk write sends no signal (learning.page_parts)
    return new


def peer_comment_record(*, comment: Comment, review: PeerReview) -> None:
    """Mark `comment` as written in `review`; the review is done from its first comment.
    Called by learning.replies.services.comment_create, in its transaction."""
    PeerComment.objects.create(comment=comment, review=review)
    comment.is_peer, comment.is_hidden = True, False
    if review.completed_at is None:
        review.completed_at = timezone.now()
        review.save(update_fields=["completed_at", "updated_at"])


@transaction.atomic
def peer_comment_hide(*, member: Membership, comment: Comment, hidden: bool) -> PeerComment:
    """A teacher hides a peer comment from students (or shows it again); teachers still see
    it, marked hidden."""
    roles.require_teacher(member)
    peer = PeerComment.objects.select_for_update().filter(comment=comment).first()
    if peer is None:
        raise DomainError("Only peer comments can be hidden.", code="not_peer_comment")
    peer.hidden_at = timezone.now() if hidden else None
    peer.hidden_by = member.user if hidden else None
    peer.save(update_fields=["hidden_at", "hidden_by"])
    return peer


def can_comment(*, member: Membership, reply: Reply, parent: Comment | None) -> PeerReview | None:
    """The review through which `member` comments on a classmate's reply; raises when they
    may not (a reviewer answers only threads they started)."""
    review = selectors.review_for(user=member.user, reply=reply)
    if review is None:
        raise PermissionDenied("You cannot comment on this reply.", code="forbidden")
    if parent is not None and parent.author_id != member.user_id:
        raise PermissionDenied("You can only answer your own comments here.", code="forbidden")
    return review
