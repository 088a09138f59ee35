"""Reads of peer review: which classmates' replies a student reviews, what a reviewer may see
of them, and how peer comments appear to each viewer (named, "Classmate 1", or hidden).

The rule that opens a classmate's reply is one row: a `PeerReview` naming the student as its
reviewer. Teachers see every peer comment, marked and with its hidden state; students never
see a hidden one; in an anonymous exercise the reviewer and the reply's student see each other
only as "Classmate" / "Classmate <n>" (n: the order the reply's reviewers were given it).
"""

from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from learning import roles
from learning.models import Comment, PeerComment, PeerReview, Reply
from tenants.models import Membership

CLASSMATE = "Classmate"


def review_for(*, user, reply: Reply) -> PeerReview | None:
    """The task that gives `user` this reply to review, if any."""
    if reply.student_id == user.pk:
        return None
    return PeerReview.objects.filter(reviewer=user, reply=reply).first()


def reviewed_reply_ids(*, user) -> QuerySet:
    """The replies `user` was given to review (a subquery for visibility rules)."""
    return PeerReview.objects.filter(reviewer=user).values("reply_id")


def reviewed_media_ids(*, user) -> QuerySet:
    return PeerReview.objects.filter(reviewer=user).values("reply__media_id")


def reviews_for_student(*, student) -> QuerySet[PeerReview]:
    """A student's reviews, those to write first, newest first, each with its exercise, reply and
    classmate, and how many comments the student left (one query whatever the rows)."""
    mine = (
        Comment.objects.filter(reply=OuterRef("reply_id"), author=student)
        .order_by()
        .values("reply")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        PeerReview.objects.filter(reviewer=student)
        .select_related("exercise", "reply", "reviewee")
        .annotate(my_comment_count=Coalesce(Subquery(mine, output_field=IntegerField()), 0))
        .order_by(F("completed_at").asc(nulls_first=True), "-created_at", "-pk")
    )


def classmate_name(review: PeerReview) -> str:
    """The reviewee as the reviewer sees them."""
    if review.exercise.peer_review_anonymous:
        return CLASSMATE
    return review.reviewee.display_name


def _aliases(*, member: Membership, reply: Reply, review: PeerReview | None) -> dict[int, str]:
    """Author ids to show under another name, for this viewer of this reply."""
    if roles.is_teacher(member) or not reply.exercise.peer_review_anonymous:
        return {}
    if review is not None:  # the reviewer: the reply's student is "Classmate"
        return {reply.student_id: CLASSMATE}
    if reply.student_id == member.user_id:  # the reply's student: "Classmate 1", "Classmate 2"
        reviewers = PeerReview.objects.filter(reply=reply).order_by("created_at", "pk")
        return {
            reviewer_id: f"{CLASSMATE} {n}"
            for n, reviewer_id in enumerate(reviewers.values_list("reviewer_id", flat=True), 1)
        }
    return {}


def _mark(comment: Comment, aliases: dict[int, str]) -> None:
    peer = getattr(comment, "peer", None)
    comment.is_peer = peer is not None
    comment.is_hidden = peer is not None and peer.hidden_at is not None
    if comment.author_id in aliases:
        comment.author_alias = aliases[comment.author_id]


def comments_visible_to(*, member: Membership, reply: Reply) -> list[Comment]:
    """The reply's comment threads as `member` may see them: teachers all of them; the reply's
    student all but hidden peer comments; a reviewer only the threads they started. Each
    comment carries `is_peer`, `is_hidden` and, where a name is hidden, `author_alias`
    (read by learning.exercises.apis.CommentOut). Three or four queries whatever the rows."""
    review = None
    comments = Comment.objects.select_related("author", "peer", "media")
    if not roles.is_teacher(member):
        comments = comments.filter(Q(peer__isnull=True) | Q(peer__hidden_at__isnull=True))
        if reply.student_id != member.user_id:
            review = review_for(user=member.user, reply=reply)
    threads = comments.filter(reply=reply, parent__isnull=True)
    if review is not None:
        threads = threads.filter(author=member.user)
    threads = threads.prefetch_related(
        Prefetch("children", queryset=comments.order_by("at_ms", "created_at"))
    ).order_by("at_ms", "created_at")
    aliases = _aliases(member=member, reply=reply, review=review)
    result = list(threads)
    for thread in result:
        _mark(thread, aliases)
        for child in thread.children.all():
            _mark(child, aliases)
    return result


def hidden_from(*, member: Membership, comment: Comment) -> bool:
    """A peer comment a teacher hid, asked about by a student (for whom it does not exist)."""
    if roles.is_teacher(member):
        return False
    return PeerComment.objects.filter(comment=comment, hidden_at__isnull=False).exists()


def owner_alias(*, comment: Comment) -> str | None:
    """How the reply's student sees the author of `comment` when the name is hidden from them
    (for notifications and live updates); None when they see the name."""
    reply = comment.reply
    if not reply.exercise.peer_review_anonymous or comment.author_id == reply.student_id:
        return None
    reviewers = list(
        PeerReview.objects.filter(reply=reply)
        .order_by("created_at", "pk")
        .values_list("reviewer_id", flat=True)
    )
    if comment.author_id not in reviewers:
        return None
    return f"{CLASSMATE} {reviewers.index(comment.author_id) + 1}"


def is_reviewing(*, member: Membership, reply: Reply) -> bool:
    """`member` sees this reply as its reviewer (a classmate's, given by peer review)."""
    return not roles.is_teacher(member) and reply.student_id != member.user_id


def reply_as_seen(*, member: Membership, reply: Reply, data: dict) -> dict:
    """A reply's API shape for its reviewer: without the note to the teacher, and in an
    anonymous exercise without the classmate's name."""
    if not is_reviewing(member=member, reply=reply):
        return data
    data = {**data, "note": ""}
    if reply.exercise.peer_review_anonymous:
        data["student"] = {"public_id": None, "display_name": CLASSMATE}
    return data
