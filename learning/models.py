"""The core loop, in each tenant's schema: classes, exercises, media, replies and comments.

Users live in the public schema; tenant tables point at them (never the other way round).
Everything that appears in a URL has a UUID `public_id`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class TimeStamped(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Classroom(TimeStamped):
    """A roster of students, used to assign exercises to a group at once."""

    name = models.CharField(max_length=120)
    students = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    # Co-teachers: who teaches the class (its creator among them). A teacher sees the replies
    # of its students and of the exercises assigned to it (learning.replies.selectors).
    teachers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The course's last day: the school's retention (Tenant.reply_retention_days) counts from it.
    ends_on = models.DateField(null=True, blank=True)
    # The class sign-in code for students without email (learning.class_signin); none until
    # a teacher turns it on, and a rotation replaces it.
    signin_code = models.CharField(max_length=8, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="classroom_name_unique")]

    def __str__(self) -> str:
        return self.name


class MediaFile(TimeStamped):
    """One uploaded recording and what processing made of it."""

    class State(models.TextChoices):
        AWAITING_UPLOAD = "awaiting_upload", "Awaiting upload"
        UPLOADED = "uploaded", "Uploaded"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Purpose(models.TextChoices):
        DEMONSTRATION = "demonstration", "Demonstration"
        REPLY = "reply", "Reply"
        COMMENT = "comment", "Comment"  # a teacher's voice or video note (learning.media_comments)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.AWAITING_UPLOAD)
    error_message = models.CharField(max_length=500, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    # Storage keys, all under tenants/<tenant uuid>/media/<public_id>/.
    source_key = models.CharField(max_length=500)
    declared_bytes = models.BigIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)
    duration_s = models.FloatField(null=True, blank=True)
    has_video = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    renditions = models.JSONField(default=dict, blank=True)  # {"720p": key} or {"audio": key}
    poster_key = models.CharField(max_length=500, blank=True)
    waveform = models.JSONField(default=list, blank=True)  # peaks 0..1, fixed rate
    processing_attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    state__in=["awaiting_upload", "uploaded", "processing", "ready", "failed"]
                ),
                name="media_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gte=0) & models.Q(declared_bytes__gte=0),
                name="media_sizes_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.original_name or self.public_id} ({self.state})"

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY


class Exercise(TimeStamped):
    """A teacher's demonstration plus instructions, assigned to students."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)  # Markdown, rendered safely
    instrument = models.CharField(max_length=60, blank=True)
    tags = models.JSONField(default=list, blank=True)
    demo = models.ForeignKey(
        MediaFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    assign_to_all = models.BooleanField(default=True)
    assigned_classes = models.ManyToManyField(Classroom, related_name="exercises", blank=True)
    assigned_students = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # In the school's template library (learning.courses): listed for its teachers, copied by
    # "use template", never shown to students.
    is_template = models.BooleanField(default=False)
    # Peer review (learning.peer_review): how many classmates' replies each student reviews
    # once their own is sent (0: none), and whether names are hidden both ways.
    peer_review_count = models.PositiveSmallIntegerField(default=0)
    peer_review_anonymous = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]), name="exercise_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(peer_review_count__lte=10), name="exercise_peer_review_count_max"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="exercise_published_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Reply(TimeStamped):
    """A student's attempt at an exercise."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        REVIEWED = "reviewed", "Reviewed"
        TRY_AGAIN = "try_again", "Try again"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="replies")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attempt = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    media = models.ForeignKey(MediaFile, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    # Manual sync: how far the reply is shifted against the demonstration, saved per reply.
    sync_offset_ms = models.IntegerField(default=0)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    student_seen_at = models.DateTimeField(null=True, blank=True)
    # Co-teachers: the reviewer it is assigned to (a teacher who can see it), or nobody.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The grade, in one place: a review without a rubric gives 1 of 1; a rubric's scores fill
    # them (learning.rubrics). Grade passback (learning.lti) sends what is here.
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "student", "attempt"], name="reply_attempt_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(attempt__gte=1), name="reply_attempt_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["submitted", "reviewed", "try_again"]),
                name="reply_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(score_given__isnull=True)
                | (
                    models.Q(score_maximum__gt=0)
                    & models.Q(score_given__gte=0)
                    & models.Q(score_given__lte=models.F("score_maximum"))
                ),
                name="reply_score_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["student", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} · attempt {self.attempt}"


class Comment(TimeStamped):
    """Time-coded feedback on one side of the compare view; threaded by `parent`."""

    class Side(models.TextChoices):
        DEMONSTRATION = "demonstration", "Demonstration"
        REPLY = "reply", "Reply"

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="comments")
    # None once its author was deleted and the school keeps comments anonymised.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    side = models.CharField(max_length=16, choices=Side.choices, default=Side.REPLY)
    at_ms = models.PositiveIntegerField()
    body = models.TextField(max_length=4000)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Marks drawn on the paused frame of `side` at `at_ms` (learning.drawings.shapes): vector
    # data with coordinates in the picture's 0..1 space, shown over the video, never baked in.
    drawing = models.JSONField(default=list, blank=True)
    # A teacher's voice or video note at this moment (learning.media_comments); the body may
    # then be empty. Deleting the comment deletes the recording.
    media = models.OneToOneField(
        MediaFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="comment"
    )

    class Meta:
        ordering = ["at_ms", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(side__in=["demonstration", "reply"]), name="comment_side_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at_ms} ms: {self.body[:40]}"


class ActivityEvent(models.Model):
    """One thing that happened in the core loop, kept as an outbox: progress rollups,
    notifications and product analytics are derived from these rows (learning.activity)."""

    class Kind(models.TextChoices):
        EXERCISE_PUBLISHED = "exercise_published", "Exercise published"
        REPLY_SUBMITTED = "reply_submitted", "Reply submitted"
        FEEDBACK_GIVEN = "feedback_given", "Feedback given"
        COMMENT_CREATED = "comment_created", "Comment created"
        COMPARE_VIEWED = "compare_viewed", "Compare viewed"
        PRACTICE = "practice", "Practice time"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Public ids of the subjects ("exercise", "reply", "comment", "student") and figures
    # ("seconds"): enough to rebuild every rollup without reading the core-loop tables.
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [
            models.Index(fields=["kind", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}"


class Alignment(TimeStamped):
    """The music-aware alignment of a reply to its exercise's demonstration (learning.alignment):
    a time map for auto-sync and advisory timing and pitch bands. One per reply; recomputed
    when the demonstration or the algorithm changes."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        NOT_ALIGNED = "not_aligned", "Not aligned"  # no audio, or not trustworthy
        FAILED = "failed", "Failed"  # a bug or storage trouble after retries

    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="alignment")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300, blank=True)  # for people, when not ready
    # What the result was computed from, so that a rerun knows whether it is still current.
    demo_media_public_id = models.UUIDField(null=True, blank=True)
    reply_media_public_id = models.UUIDField(null=True, blank=True)
    algorithm = models.CharField(max_length=20, blank=True)
    # {"demo_ms": [...], "reply_ms": [...]}: two non-decreasing integer lists, ~10 points/s.
    time_map = models.JSONField(default=dict, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    transposition_semitones = models.SmallIntegerField(default=0)
    bands = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    visible_to_student = models.BooleanField(default=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "ready", "not_aligned", "failed"]),
                name="alignment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(transposition_semitones__gte=-5)
                & models.Q(transposition_semitones__lte=6),
                name="alignment_transposition_range",
            ),
        ]

    def __str__(self) -> str:
        return f"alignment of {self.reply_id} ({self.status})"


class Export(TimeStamped):
    """One ZIP of a tenant's data (owners and admins) or of one member's own (anyone), built by
    the task `learning.build_export` into private storage (learning.exports)."""

    class Scope(models.TextChoices):
        TENANT = "tenant", "The whole school or studio"
        PERSONAL = "personal", "My own data"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being written"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Deleted"  # the ZIP was removed after PRACTIKA_EXPORT_KEEP_DAYS

    scope = models.CharField(max_length=10, choices=Scope.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, written by the task
    error_message = models.CharField(max_length=500, blank=True)
    key = models.CharField(max_length=500, blank=True)  # tenants/<uuid>/exports/<public_id>.zip
    size_bytes = models.BigIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=["tenant", "personal"]), name="export_scope_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "ready", "failed", "expired"]),
                name="export_state_valid",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="export_progress"),
            # One export in the making per person and scope: asking twice does not queue twice.
            models.UniqueConstraint(
                fields=["requested_by", "scope"],
                # OR, not IN: a cloned schema re-creates the index from its printed definition,
                # and PostgreSQL prints `= ANY (ARRAY[...])` back differently (tests/tenants/
                # test_clone.py compares the two).
                condition=models.Q(state="queued") | models.Q(state="running"),
                name="export_one_in_progress",
            ),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"]),
            models.Index(fields=["state", "finished_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.scope} export {self.public_id} ({self.state})"

    @property
    def in_progress(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


# --- LTI 1.3 (learning.lti): Practika as a tool in a school's LMS ---------------------------


class LtiRegistration(TimeStamped):
    """One LMS (an LTI 1.3 platform) this school registered Practika in: what the admin copied
    from the LMS, and the tool's own signing key for it (the private half is never shown)."""

    name = models.CharField(max_length=120)
    issuer = models.CharField(max_length=255)
    client_id = models.CharField(max_length=255)
    deployment_ids = models.JSONField(default=list)
    auth_login_url = models.URLField(max_length=500)
    access_token_url = models.URLField(max_length=500)
    jwks_url = models.URLField(max_length=500)
    tool_private_key = models.TextField()  # PEM, RS256
    tool_public_key = models.TextField()  # PEM
    tool_kid = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_registration_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer})"


class LtiIdentity(TimeStamped):
    """The account an LMS user (`sub` at `issuer`) signs in to: later launches find it here."""

    issuer = models.CharField(max_length=255)
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The registration that first saw the person; an LMS disconnected and connected again
    # finds its people by issuer and `sub` all the same.
    registration = models.ForeignKey(
        LtiRegistration, on_delete=models.SET_NULL, null=True, related_name="identities"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sub"], name="lti_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sub} at {self.issuer}"


class LtiContext(TimeStamped):
    """An LMS course seen in a launch, its roster service, and the class its roster fills."""

    registration = models.ForeignKey(
        LtiRegistration, on_delete=models.CASCADE, related_name="contexts"
    )
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    memberships_url = models.URLField(max_length=500, blank=True)
    classroom = models.ForeignKey(
        Classroom, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    roster_synced_at = models.DateTimeField(null=True, blank=True)
    roster_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "context_id"], name="lti_context_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.context_id


class LtiGradeTarget(TimeStamped):
    """Where a student's grade on an exercise goes: the line item of the launch they came from."""

    registration = models.ForeignKey(
        LtiRegistration, on_delete=models.CASCADE, related_name="grade_targets"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sub = models.CharField(max_length=255)
    lineitem_url = models.URLField(max_length=500)
    scopes = models.JSONField(default=list)
    last_posted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "exercise", "user"], name="lti_grade_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.exercise_id} · {self.sub} → {self.lineitem_url}"


class RosterImport(TimeStamped):
    """An uploaded roster file, kept between its preview and the admin's confirmation."""

    class SignIn(models.TextChoices):
        INVITATION = "invitation", "Email an invitation"
        SSO = "sso", "School sign-in (single sign-on) only"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        IMPORTED = "imported", "Imported"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_names = models.CharField(max_length=500)
    files = models.JSONField()  # {lower-case file name: text}
    sign_in = models.CharField(max_length=12, choices=SignIn.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEWED)
    counts = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sign_in__in=["invitation", "sso"]),
                name="roster_import_sign_in_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["previewed", "imported"]),
                name="roster_import_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.file_names


class RosterPerson(TimeStamped):
    """Someone a roster named: matched by their OneRoster sourcedId or their email on the next
    import. `user` is empty while their invitation waits; `pending_class_ids` are the classes
    they join when they accept it. `sign_in` "sso" marks an account made for the school's identity
    provider (it has no usable password)."""

    sourced_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    email = models.EmailField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sign_in = models.CharField(max_length=12, choices=RosterImport.SignIn.choices)
    pending_class_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class RosterClass(TimeStamped):
    """A class a OneRoster file named, by its sourcedId (its title may change)."""

    sourced_id = models.CharField(max_length=255, unique=True)
    classroom = models.OneToOneField(Classroom, on_delete=models.CASCADE, related_name="roster")

    def __str__(self) -> str:
        return self.sourced_id


# --- feedback library ---


class SavedComment(TimeStamped):
    """A teacher's reusable comment (the feedback library): their own, or shared with every
    teacher of the school. `use_count` counts the comments created from it."""

    # None once its author was deleted: a shared one stays in the school's library.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(max_length=4000)
    shared = models.BooleanField(default=False)
    use_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-use_count", "-updated_at", "pk"]
        indexes = [models.Index(fields=["owner", "shared"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shared=True) | models.Q(owner__isnull=False),
                name="saved_comment_private_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.body[:40]


# --- Courses (learning.courses): units of exercises in order, released by date or prerequisite


class Course(TimeStamped):
    """Units of exercises in order, assigned like an exercise (to everyone, classes or students).
    A new or duplicated course is assigned to nobody; a template is never assigned."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_template = models.BooleanField(default=False)
    assign_to_all = models.BooleanField(default=False)
    assigned_classes = models.ManyToManyField(Classroom, related_name="courses", blank=True)
    assigned_students = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_template=False) | models.Q(assign_to_all=False),
                name="course_template_unassigned",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CourseUnit(TimeStamped):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="units")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class CourseItem(TimeStamped):
    """One exercise of a unit: when it opens, and what the student must have done first.

    An exercise sits in at most one course item, so that whether it is open for a student has
    one answer (learning.courses.gates); duplicating a course copies its exercises."""

    class Requires(models.TextChoices):
        REPLY = "reply", "a reply sent"
        REVIEW = "review", "a reply reviewed"

    unit = models.ForeignKey(CourseUnit, on_delete=models.CASCADE, related_name="items")
    exercise = models.OneToOneField(Exercise, on_delete=models.CASCADE, related_name="course_item")
    position = models.PositiveIntegerField(default=0)
    release_at = models.DateTimeField(null=True, blank=True)
    prerequisite = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requires = models.CharField(max_length=8, choices=Requires.choices, default=Requires.REPLY)

    class Meta:
        ordering = ["unit", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requires__in=["reply", "review"]),
                name="course_item_requires_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(prerequisite=models.F("pk")),
                name="course_item_not_own_prerequisite",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.exercise_id}"


class CourseCopy(TimeStamped):
    """A teacher's copy of an exercise or course of this school to another school where they
    teach, with its recordings; made by the task `learning.copy_to_tenant`. Kept in the source
    school's schema (the target's public id is enough to find the result)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    target_tenant_id = models.UUIDField()  # tenants.Tenant.public_id (public tables stay apart)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, null=True, blank=True)
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    error_message = models.CharField(max_length=500, blank=True)
    result_public_id = models.UUIDField(null=True, blank=True)  # the copy, in the target
    media_copied = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "done", "failed"]),
                name="course_copy_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(course__isnull=True) ^ models.Q(exercise__isnull=True),
                name="course_copy_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"copy {self.public_id} ({self.state})"


# --- Peer review (learning.peer_review) ----------------------------------------------------


class PeerReview(TimeStamped):
    """One student's task to review a classmate's reply to the same exercise: given once the
    reviewer's own reply is sent, and what opens that reply (its page, API and media) to them."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="peer_reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="peer_reviews")
    # The reply's student, kept here so that the database refuses the same classmate twice.
    reviewee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)  # the reviewer's first comment

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "reviewer", "reviewee"], name="peer_review_classmate_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(reviewer=models.F("reviewee")), name="peer_review_not_self"
            ),
        ]
        indexes = [models.Index(fields=["reviewer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.reviewer_id} reviews {self.reply_id}"


class PeerComment(models.Model):
    """A comment written as a peer review, and whether a teacher hid it from students."""

    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, primary_key=True, related_name="peer"
    )
    # Kept (and the comment hidden or not) when the reviewer's membership is purged.
    review = models.ForeignKey(
        PeerReview, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"peer comment {self.comment_id}{' (hidden)' if self.hidden_at else ''}"


# --- Rubrics and grades (learning.rubrics) ------------------------------------------------


class Rubric(TimeStamped):
    """Criteria with levels and points. Either a library template of the tenant (school or
    studio: `is_template`, no exercise) or the rubric of one exercise. Attaching a template to
    an exercise copies it, so editing the library never changes graded work."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=4000)
    is_template = models.BooleanField(default=False)
    exercise = models.OneToOneField(
        Exercise, on_delete=models.CASCADE, null=True, blank=True, related_name="rubric"
    )
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["title", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(is_template=True) & models.Q(exercise__isnull=False)),
                name="rubric_template_has_no_exercise",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RubricCriterion(TimeStamped):
    """One thing a reply is judged on (intonation, rhythm, tone), with its levels."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class RubricLevel(TimeStamped):
    """A level of a criterion and the points it gives."""

    criterion = models.ForeignKey(RubricCriterion, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    points = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=0) & models.Q(points__lte=10000),
                name="rubric_level_points_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.points})"


class RubricScore(TimeStamped):
    """The level a teacher picked for one criterion of a reply. A rubric with scores keeps the
    criteria and levels they point at: learning.rubrics.services refuses such edits with a
    sentence, and RESTRICT is the backstop (deleting the exercise or the reply, which takes the
    scores with it, still works)."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="rubric_scores")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.RESTRICT, related_name="+")
    level = models.ForeignKey(RubricLevel, on_delete=models.RESTRICT, related_name="+")
    note = models.TextField(blank=True, max_length=2000)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reply", "criterion"], name="rubric_score_one_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reply_id} · {self.criterion_id} → {self.level_id}"
