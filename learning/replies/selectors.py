"""Reads of replies and comments. Each selector does its own joins so that a page's query count
does not grow with its rows.

Who sees a reply is one rule, `visible_replies` (every read of replies for a member goes
through it, and the open-work page evaluates the same `teacher_sees` per teacher in SQL):
students their own; owners and admins every reply of the tenant; a teacher a reply when they
created its exercise, teach a class the exercise is assigned to, teach a class its student is
in, or it is assigned to them. A studio's one teacher created every exercise, so the first
clause covers them."""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce

from learning import roles
from learning.errors import NotFound
from learning.models import Classroom, Comment, Exercise, MediaFile, Reply
from learning.peer_review import selectors as peer_selectors
from learning.querysets import unique_or_none
from tenants.models import ADMIN_ROLES, TEACHING_ROLES, Membership

# --- Who sees which reply (the one rule) ----------------------------------------------------


def sees_every_reply(member: Membership | None) -> bool:
    return member is not None and member.role in ADMIN_ROLES


def _one_level_down(user):
    # The rule's inner subqueries sit one level below the reply: a reference to an outer row
    # (the open-work page's teacher) must reach one level further out there.
    return OuterRef(user) if isinstance(user, OuterRef) else user


def teacher_sees(user: int | OuterRef) -> Q:
    """The replies a teacher (a user id, or an `OuterRef` to one) sees, as a filter on Reply.
    Each clause is a foreign key or an `IN (subquery)`: no join that repeats a reply."""
    inner = _one_level_down(user)
    class_exercises = Exercise.assigned_classes.through.objects.filter(
        classroom__teachers=inner
    ).values("exercise_id")
    class_students = Classroom.students.through.objects.filter(classroom__teachers=inner).values(
        "user_id"
    )
    return (
        Q(exercise__created_by=user)
        | Q(assigned_to=user)
        | Q(exercise_id__in=class_exercises)
        | Q(student_id__in=class_students)
    )


def visible_replies(*, member: Membership) -> QuerySet[Reply]:
    """Every reply `member` may read, without joins (callers add theirs)."""
    if sees_every_reply(member):
        replies = Reply.objects.all()
    elif roles.is_teacher(member):
        replies = Reply.objects.filter(teacher_sees(member.user_id))
    else:
        return Reply.objects.filter(student=member.user)
    # A reply whose recording failed is the student's draft, not an attempt to see.
    return replies.exclude(media__state=MediaFile.State.FAILED)


def visibility_key(member: Membership) -> str:
    """What a cached list of replies must be keyed by: the rule's inputs for this viewer."""
    if sees_every_reply(member):
        return "all"
    return f"user-{member.user_id}"


def _visible_to(member: Membership, *, reviewed: bool = False) -> QuerySet[Reply]:
    replies = visible_replies(member=member)
    if reviewed and not roles.is_teacher(member):
        # and the classmates' replies peer review gave them (learning.peer_review)
        replies = Reply.objects.filter(
            Q(student=member.user) | Q(pk__in=peer_selectors.reviewed_reply_ids(user=member.user))
        )
    return replies.select_related("exercise", "exercise__demo", "media", "student", "assigned_to")


def replies_visible_to(*, member: Membership) -> QuerySet[Reply]:
    # Counted by a subquery on the comment index rather than by joining every comment and
    # grouping by the five tables' keys (docs/scaling.md).
    comments = (
        Comment.objects.filter(reply=OuterRef("pk"))
        .order_by()
        .values("reply")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return _visible_to(member).annotate(
        comment_count=Coalesce(Subquery(comments, output_field=IntegerField()), 0)
    )


def attempts_listed(*, member: Membership, exercise) -> QuerySet[Reply]:
    """One exercise's replies as its student's page lists them, newest first: each with its
    recording and comment count, without the exercise and the student the page already has."""
    return (
        replies_visible_to(member=member)
        .filter(exercise=exercise)
        .select_related(None)
        .select_related("media")
        .order_by("-attempt")
    )


def reply_get(*, member: Membership, public_id) -> Reply:
    # The same visibility as the lists without their per-row comment count: one reply needs
    # no GROUP BY over five tables' columns (a third of the compare page's CPU went to building
    # and running it; docs/scaling.md). A student also gets the classmates' replies peer review
    # gave them to review, and nothing else of anyone's (the lists stay their own).
    reply = unique_or_none(_visible_to(member, reviewed=True).filter(public_id=public_id))
    if reply is None:
        raise NotFound("This reply does not exist or is not yours.", code="not_found")
    return reply


UNASSIGNED = "unassigned"
ME = "me"


def replies_filtered(
    replies: QuerySet[Reply], *, member: Membership, classroom=None, assignee=None
) -> QuerySet[Reply]:
    """The inbox's and the replies API's filters: `classroom` (a Classroom: its students'
    replies and those of exercises assigned to it) and `assignee` ("me", "unassigned" or a
    User)."""
    if classroom is not None:
        replies = replies.filter(
            Q(student_id__in=classroom.students.through.objects.filter(
                classroom=classroom).values("user_id"))
            | Q(exercise_id__in=Exercise.assigned_classes.through.objects.filter(
                classroom=classroom).values("exercise_id"))
        )  # fmt: skip
    if assignee == ME:
        replies = replies.filter(assigned_to_id=member.user_id)
    elif assignee == UNASSIGNED:
        replies = replies.filter(assigned_to__isnull=True)
    elif assignee is not None:
        replies = replies.filter(assigned_to=assignee)
    return replies


def replies_awaiting_feedback(
    *, member: Membership, classroom=None, assignee=None
) -> QuerySet[Reply]:
    """The teacher's inbox: the submitted replies they may see whose recording is ready to
    review, oldest first (never one still processing or a student's failed draft)."""
    replies = visible_replies(member=member).filter(
        status=Reply.Status.SUBMITTED, media__state=MediaFile.State.READY
    )
    return (
        replies_filtered(replies, member=member, classroom=classroom, assignee=assignee)
        .select_related("exercise", "media", "student", "assigned_to")
        .order_by("created_at")
    )


def _count(replies: QuerySet[Reply]) -> Subquery:
    return Subquery(
        replies.order_by().values(n=Func(F("pk"), function="COUNT")), output_field=IntegerField()
    )


def open_work_per_teacher(*, tenant) -> QuerySet[Membership]:
    """The school's teaching members, each with the replies waiting that they can see
    (`waiting`, from `teacher_sees`; owners and admins see all), those assigned to them
    (`assigned`) and when the oldest they can see was sent (`oldest_at`). One query."""
    waiting = Reply.objects.filter(
        status=Reply.Status.SUBMITTED, media__state=MediaFile.State.READY
    )
    theirs = waiting.filter(teacher_sees(OuterRef("user_id")))
    everyone = Q(role__in=ADMIN_ROLES)

    def oldest(replies):
        return Subquery(replies.order_by("created_at").values("created_at")[:1])

    return (
        Membership.objects.filter(tenant=tenant, role__in=TEACHING_ROLES)
        .select_related("user")
        .annotate(
            waiting=Case(When(everyone, then=_count(waiting)), default=_count(theirs)),
            assigned=_count(waiting.filter(assigned_to_id=OuterRef("user_id"))),
            oldest_at=Case(When(everyone, then=oldest(waiting)), default=oldest(theirs)),
        )
        .order_by("user__full_name", "user__email")
    )


def attempts_of(*, reply: Reply) -> QuerySet[Reply]:
    return (
        Reply.objects.filter(exercise=reply.exercise, student=reply.student)
        .select_related("media")
        .order_by("attempt")
    )


def comments_for_reply(*, reply: Reply) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(reply=reply, parent__isnull=True)
        .select_related("author", "media")
        .prefetch_related(
            Prefetch("children", queryset=Comment.objects.select_related("author", "media"))
        )
        .order_by("at_ms", "created_at")
    )
