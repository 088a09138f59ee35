"""What an export holds: one `Section` per table, each a query of plain values (`.values()`,
read in chunks) for the export's scope — the whole tenant, or one member's own rows.

learning's sections are here; other apps add theirs through `PRACTIKA_EXPORT_SECTIONS` (each
entry a function `sections(scope) -> list[Section]`), the way analytics hears of activity
through `PRACTIKA_ACTIVITY_HANDLERS`: learning imports no analytics code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils.module_loading import import_string

from billing.models import Invoice, Subscription, SubscriptionChange
from learning.models import (
    ActivityEvent,
    Alignment,
    Classroom,
    Comment,
    Course,
    CourseItem,
    CourseUnit,
    Exercise,
    MediaFile,
    PeerReview,
    Reply,
    RubricLevel,
    RubricScore,
    SavedComment,
)
from tenants.models import AuditEvent, Invitation, Membership, Tenant, User

# Rows read from the database at a time. An alignment's time map holds about 20 numbers per
# second of recording (a few thousand for a typical reply), so its section reads fewer.
CHUNK_ROWS = 1000
HEAVY_CHUNK_ROWS = 50


@dataclass(frozen=True)
class Scope:
    """Whose data: the whole `tenant`, or only `user`'s own rows in it (`personal`)."""

    tenant: Tenant
    user: User
    personal: bool

    def own(self, lookup: str) -> Q:
        """A filter that keeps everything for a tenant export, and only the rows whose
        `lookup` is the member for a personal one."""
        return Q(**{lookup: self.user}) if self.personal else Q()


@dataclass(frozen=True)
class Section:
    """One table of the export: `data/<name>.json` and `data/<name>.csv`."""

    name: str
    description: str
    fields: tuple[str, ...]
    query: Callable[[], QuerySet] = field(repr=False)
    chunk_rows: int = CHUNK_ROWS

    def rows(self) -> Iterator[dict]:
        return self.query().values(*self.fields).iterator(chunk_size=self.chunk_rows)


def section(
    name: str,
    description: str,
    queryset: Callable[[], QuerySet],
    *fields,
    chunk_rows: int = CHUNK_ROWS,
    **aliases,
):
    """A section of `fields` and `aliases` (output name → expression, e.g. an email across
    a join); the aliases are annotated so that `.values()` can name them."""

    def query() -> QuerySet:
        return queryset().annotate(**aliases) if aliases else queryset()

    return Section(name, description, (*fields, *aliases), query, chunk_rows)


def learning_sections(scope: Scope) -> list[Section]:
    own = scope.own
    replies = Reply.objects.filter(own("student"))
    return [
        section(
            "members",
            "People in the school or studio and their roles.",
            lambda: Membership.objects.filter(Q(tenant=scope.tenant) & own("user")).order_by(
                "created_at", "pk"
            ),
            "public_id",
            "role",
            "created_at",
            "last_active_at",
            email=F("user__email"),
            full_name=F("user__full_name"),
        ),
        section(
            "invitations",
            "Invitations sent to join (their secret links left out).",
            lambda: (
                Invitation.objects.none()
                if scope.personal
                else Invitation.objects.filter(tenant=scope.tenant).order_by("created_at", "pk")
            ),
            "public_id",
            "email",
            "role",
            "expires_at",
            "accepted_at",
            "revoked_at",
            "created_at",
            invited_by_email=F("invited_by__email"),
            accepted_by_email=F("accepted_by__email"),
        ),
        section(
            "audit_events",
            "Who did what, when: role changes, removals, invitations, exports and more.",
            lambda: (
                AuditEvent.objects.none()
                if scope.personal
                else AuditEvent.objects.filter(tenant=scope.tenant).order_by("created_at", "pk")
            ),
            "action",
            "data",
            "created_at",
            actor_email=F("actor__email"),
        ),
        section(
            "classes",
            "Classes (rosters of students).",
            lambda: (
                Classroom.objects.none() if scope.personal else Classroom.objects.order_by("pk")
            ),
            "public_id",
            "name",
            "ends_on",
            "created_at",
            "updated_at",
            created_by_email=F("created_by__email"),
        ),
        section(
            "class_students",
            "Which student is in which class.",
            lambda: Classroom.students.through.objects.filter(own("user")).order_by("pk"),
            class_public_id=F("classroom__public_id"),
            student_email=F("user__email"),
        ),
        section(
            "class_teachers",
            "Who teaches which class.",
            lambda: Classroom.teachers.through.objects.filter(own("user")).order_by("pk"),
            class_public_id=F("classroom__public_id"),
            teacher_email=F("user__email"),
        ),
        section(
            "courses",
            "Courses: exercises put in order, in units.",
            lambda: Course.objects.none() if scope.personal else Course.objects.order_by("pk"),
            "public_id",
            "title",
            "description",
            "is_template",
            "assign_to_all",
            "created_at",
            "updated_at",
            created_by_email=F("created_by__email"),
        ),
        section(
            "course_classes",
            "Which course is assigned to which class.",
            lambda: (
                Course.assigned_classes.through.objects.none()
                if scope.personal
                else Course.assigned_classes.through.objects.order_by("pk")
            ),
            course_public_id=F("course__public_id"),
            class_public_id=F("classroom__public_id"),
        ),
        section(
            "course_students",
            "Which course is assigned to which student.",
            lambda: Course.assigned_students.through.objects.filter(own("user")).order_by("pk"),
            course_public_id=F("course__public_id"),
            student_email=F("user__email"),
        ),
        section(
            "course_units",
            "The units of each course, in order.",
            lambda: (
                CourseUnit.objects.none()
                if scope.personal
                else CourseUnit.objects.order_by("course_id", "position", "pk")
            ),
            "public_id",
            "title",
            "position",
            course_public_id=F("course__public_id"),
        ),
        section(
            "course_items",
            "The exercises of each unit, when they open and what they wait for.",
            lambda: (
                CourseItem.objects.none()
                if scope.personal
                else CourseItem.objects.order_by("unit_id", "position", "pk")
            ),
            "public_id",
            "position",
            "release_at",
            "requires",
            unit_public_id=F("unit__public_id"),
            exercise_public_id=F("exercise__public_id"),
            prerequisite_public_id=F("prerequisite__public_id"),
        ),
        section(
            "exercises",
            "Exercises: instructions, status, due dates, the demonstration.",
            lambda: (
                Exercise.objects.filter(replies__in=replies).distinct()
                if scope.personal
                else Exercise.objects.all()
            ).order_by("created_at", "pk"),
            "public_id",
            "title",
            "instructions",
            "instrument",
            "tags",
            "status",
            "published_at",
            "due_at",
            "assign_to_all",
            "created_at",
            "updated_at",
            demo_media_public_id=F("demo__public_id"),
            created_by_email=F("created_by__email"),
        ),
        section(
            "exercise_classes",
            "Which exercise is assigned to which class.",
            lambda: (
                Exercise.assigned_classes.through.objects.none()
                if scope.personal
                else Exercise.assigned_classes.through.objects.order_by("pk")
            ),
            exercise_public_id=F("exercise__public_id"),
            class_public_id=F("classroom__public_id"),
        ),
        section(
            "exercise_students",
            "Which exercise is assigned to which student.",
            lambda: Exercise.assigned_students.through.objects.filter(own("user")).order_by("pk"),
            exercise_public_id=F("exercise__public_id"),
            student_email=F("user__email"),
        ),
        section(
            "media_files",
            "Recordings: what was uploaded and what processing made of it.",
            lambda: MediaFile.objects.filter(own("owner")).order_by("created_at", "pk"),
            "public_id",
            "purpose",
            "state",
            "error_message",
            "original_name",
            "size_bytes",
            "duration_s",
            "has_video",
            "has_audio",
            "width",
            "height",
            "renditions",
            "poster_key",
            "source_key",
            "created_at",
            "processed_at",
            owner_email=F("owner__email"),
        ),
        section(
            "replies",
            "Students' attempts at exercises, and their review.",
            lambda: replies.order_by("created_at", "pk"),
            "public_id",
            "attempt",
            "note",
            "status",
            "sync_offset_ms",
            "reviewed_at",
            "student_seen_at",
            "score_given",
            "score_maximum",
            "created_at",
            "updated_at",
            exercise_public_id=F("exercise__public_id"),
            student_email=F("student__email"),
            media_public_id=F("media__public_id"),
            reviewed_by_email=F("reviewed_by__email"),
        ),
        section(
            "comments",
            "Time-coded comments on replies.",
            lambda: Comment.objects.filter(own("author")).order_by("created_at", "pk"),
            "public_id",
            "side",
            "at_ms",
            "body",
            "drawing",
            "edited_at",
            "created_at",
            reply_public_id=F("reply__public_id"),
            author_email=F("author__email"),
            parent_public_id=F("parent__public_id"),
            media_public_id=F("media__public_id"),
        ),
        section(
            "peer_reviews",
            "Peer review: which student was asked to review which reply.",
            # Not in a personal export: it would name the other students (the comments a member
            # wrote as a reviewer are in comments).
            lambda: (
                PeerReview.objects.none() if scope.personal else PeerReview.objects.order_by("pk")
            ),
            "public_id",
            "completed_at",
            "created_at",
            exercise_public_id=F("exercise__public_id"),
            reply_public_id=F("reply__public_id"),
            reviewer_email=F("reviewer__email"),
            reviewee_email=F("reviewee__email"),
        ),
        section(
            "saved_comments",
            "The feedback library: teachers' saved comments, and how often each was used.",
            lambda: SavedComment.objects.filter(own("owner")).order_by("created_at", "pk"),
            "public_id",
            "body",
            "shared",
            "use_count",
            "last_used_at",
            "created_at",
            "updated_at",
            owner_email=F("owner__email"),
        ),
        section(
            "rubric_levels",
            "Rubrics (the library's and each exercise's): one row per level of a criterion.",
            lambda: (
                RubricLevel.objects.none()
                if scope.personal
                else RubricLevel.objects.order_by(
                    "criterion__rubric_id", "criterion__position", "position", "pk"
                )
            ),
            "public_id",
            "title",
            "description",
            "points",
            rubric_public_id=F("criterion__rubric__public_id"),
            rubric_title=F("criterion__rubric__title"),
            rubric_is_template=F("criterion__rubric__is_template"),
            exercise_public_id=F("criterion__rubric__exercise__public_id"),
            criterion_public_id=F("criterion__public_id"),
            criterion_title=F("criterion__title"),
        ),
        section(
            "rubric_scores",
            "The level a teacher picked for each criterion of a reply.",
            lambda: RubricScore.objects.filter(own("reply__student")).order_by("pk"),
            "note",
            "created_at",
            "updated_at",
            reply_public_id=F("reply__public_id"),
            criterion_title=F("criterion__title"),
            level_title=F("level__title"),
            points=F("level__points"),
            scored_by_email=F("scored_by__email"),
        ),
        section(
            "alignments",
            "The automatic comparison of each reply with its demonstration.",
            lambda: Alignment.objects.filter(own("reply__student")).order_by("pk"),
            "status",
            "reason",
            "algorithm",
            "confidence",
            "transposition_semitones",
            "time_map",
            "bands",
            "summary",
            "visible_to_student",
            "computed_at",
            "runs",
            chunk_rows=HEAVY_CHUNK_ROWS,
            reply_public_id=F("reply__public_id"),
        ),
        section(
            "activity",
            "Everything that happened: publishing, replies, feedback, practice time.",
            lambda: ActivityEvent.objects.filter(own("actor")).order_by("occurred_at", "pk"),
            "public_id",
            "kind",
            "data",
            "occurred_at",
            actor_email=F("actor__email"),
        ),
    ]


def billing_sections(scope: Scope) -> list[Section]:
    """The subscription history and invoices: the tenant's, or a student's own plan."""
    owner = Q(user=scope.user) if scope.personal else Q(tenant=scope.tenant)
    subscriptions = Subscription.objects.filter(owner)
    return [
        section(
            "subscriptions",
            "Plans subscribed to.",
            lambda: subscriptions.order_by("pk"),
            "public_id",
            "plan_code",
            "status",
            "quantity",
            "unit_amount",
            "interval",
            "currency",
            "source",
            "started_at",
            "current_period_end",
            "trial_end",
            "canceled_at",
            "cancel_at_period_end",
            "created_at",
        ),
        section(
            "subscription_changes",
            "Every state a subscription was in, from when.",
            lambda: SubscriptionChange.objects.filter(subscription__in=subscriptions).order_by(
                "at", "pk"
            ),
            "status",
            "plan_code",
            "quantity",
            "mrr_cents",
            "at",
        ),
        section(
            "invoices",
            "Invoices, paid or not.",
            lambda: Invoice.objects.filter(subscription__in=subscriptions).order_by("pk"),
            "number",
            "status",
            "amount_due",
            "amount_paid",
            "currency",
            "hosted_invoice_url",
            "issued_at",
        ),
    ]


def sections_for(scope: Scope) -> list[Section]:
    """Every section of an export: learning's, billing's, then each app's from the setting."""
    found = learning_sections(scope) + billing_sections(scope)
    for path in getattr(settings, "PRACTIKA_EXPORT_SECTIONS", []):
        found += import_string(path)(scope)
    return found
