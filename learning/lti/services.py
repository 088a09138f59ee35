"""LTI writes: registrations, accepting a launch, grade passback and roster sync."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from learning.errors import DomainError, PermissionDenied
from learning.lti import keys, tool
from learning.models import (
    Classroom,
    Exercise,
    LtiContext,
    LtiGradeTarget,
    LtiIdentity,
    LtiRegistration,
    Reply,
)
from tenants.models import Membership, Role, User
from tenants.services import audit
from tenants.services.members import membership_join

# An LMS that shares no email address (or one an account here already uses: an LMS cannot
# vouch for an address another account owns) gets an account under this reserved domain
# (RFC 2606), never delivered to; the person is found again by issuer and `sub`.
NO_EMAIL_DOMAIN = "lti.invalid"
REGISTRATION_FIELDS = (
    "name",
    "issuer",
    "client_id",
    "deployment_ids",
    "auth_login_url",
    "access_token_url",
    "jwks_url",
)


def _require_admin(member: Membership) -> None:
    if not member.is_admin:
        raise PermissionDenied("Only the owner and admins can manage LMS connections.")


def _clean(fields: dict) -> dict:
    cleaned = {name: fields[name] for name in REGISTRATION_FIELDS}
    for name in REGISTRATION_FIELDS:
        if name != "deployment_ids":
            cleaned[name] = cleaned[name].strip()
    cleaned["deployment_ids"] = [d.strip() for d in cleaned["deployment_ids"] if d.strip()]
    if not cleaned["deployment_ids"]:
        raise DomainError("Enter the deployment id the LMS gave you.", code="deployment_missing")
    return cleaned


@transaction.atomic
def registration_create(*, member: Membership, **fields) -> LtiRegistration:
    """Register an LMS: what the admin copied from it, and a new signing key for the tool."""
    _require_admin(member)
    cleaned = _clean(fields)
    if LtiRegistration.objects.filter(
        issuer=cleaned["issuer"], client_id=cleaned["client_id"]
    ).exists():
        raise DomainError(
            "This LMS (issuer and client id) is registered already.", code="registration_taken"
        )
    pair = keys.key_pair_new()
    registration = LtiRegistration.objects.create(
        **cleaned,
        tool_private_key=pair.private_pem,
        tool_public_key=pair.public_pem,
        tool_kid=pair.kid,
        created_by=member.user,
    )
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="lti.registration_created",
        issuer=registration.issuer,
        client_id=registration.client_id,
    )
    return registration


@transaction.atomic
def registration_update(
    *, member: Membership, registration: LtiRegistration, **fields
) -> LtiRegistration:
    """Change what the admin entered; the tool's key stays."""
    _require_admin(member)
    cleaned = _clean(fields)
    if (
        LtiRegistration.objects.filter(issuer=cleaned["issuer"], client_id=cleaned["client_id"])
        .exclude(pk=registration.pk)
        .exists()
    ):
        raise DomainError(
            "This LMS (issuer and client id) is registered already.", code="registration_taken"
        )
    for name, value in cleaned.items():
        setattr(registration, name, value)
    registration.save(update_fields=[*cleaned, "updated_at"])
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="lti.registration_updated",
        issuer=registration.issuer,
        client_id=registration.client_id,
    )
    return registration


@transaction.atomic
def registration_delete(*, member: Membership, registration: LtiRegistration) -> None:
    """Disconnect an LMS: its launches stop working; accounts and memberships stay."""
    _require_admin(member)
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="lti.registration_deleted",
        issuer=registration.issuer,
        client_id=registration.client_id,
    )
    registration.delete()


def _account_for(
    *, registration: LtiRegistration, sub: str, email: str | None, full_name: str
) -> User:
    identity = (
        LtiIdentity.objects.select_related("user")
        .filter(issuer=registration.issuer, sub=sub)
        .first()
    )
    if identity is not None:
        return identity.user
    email = (email or "").strip().lower()
    if not email or User.objects.filter(email__iexact=email).exists():
        email = f"lti-{uuid.uuid4().hex}@{NO_EMAIL_DOMAIN}"
    user = User.objects.create_user(email=email, password=None, full_name=full_name[:150])
    LtiIdentity.objects.create(
        issuer=registration.issuer, sub=sub, user=user, registration=registration
    )
    audit(actor=user, tenant=connection.tenant, action="user.created", via="lti")
    return user


def _course_class(context: LtiContext) -> Classroom:
    """The course's class: its learners are its students, its instructors its teachers, so an
    instructor sees the course's replies (learning.coteachers' rule)."""
    if context.classroom is None:
        name = (context.title or context.context_id)[:120]
        context.classroom, _ = Classroom.objects.get_or_create(name=name)
        context.save(update_fields=["classroom", "updated_at"])
    return context.classroom


def _context_record(launch: tool.LaunchData) -> LtiContext | None:
    claim = launch.claim("context") or {}
    if not claim.get("id"):
        return None
    context, _ = LtiContext.objects.get_or_create(
        registration=launch.registration, context_id=str(claim["id"])[:255]
    )
    context.title = str(claim.get("title") or claim.get("label") or "")[:255]
    context.memberships_url = launch.nrps.get("context_memberships_url", "")[:500]
    context.save(update_fields=["title", "memberships_url", "updated_at"])
    return context


@dataclass(frozen=True)
class LaunchOutcome:
    user: User
    member: Membership
    exercise: Exercise | None
    deep_link: bool


def _launched_exercise(launch: tool.LaunchData) -> Exercise | None:
    wanted = (launch.claim("custom") or {}).get("exercise", "")
    try:
        public_id = uuid.UUID(str(wanted))
    except ValueError:
        return None
    return Exercise.objects.filter(public_id=public_id, status=Exercise.Status.PUBLISHED).first()


@transaction.atomic
def launch_accept(*, launch: tool.LaunchData) -> LaunchOutcome:
    """Who a validated launch signs in: the account of its `sub` (made on the first launch),
    a membership with the role its LTI roles map to (made once; an existing one is kept as it
    is), the course it came from and its class (a learner among its students, an instructor
    among its teachers) and, for a learner, where the exercise's grade goes."""
    role = tool.role_of(launch.claim("roles") or [])
    if role is None:
        raise tool.LaunchRefused(
            "Your role in this course does not open Practika: instructors and learners can."
        )
    if launch.is_deep_link and role != Role.TEACHER:
        raise tool.LaunchRefused("Only instructors can add Practika exercises to a course.")
    user = _account_for(
        registration=launch.registration,
        sub=str(launch.body["sub"]),
        email=launch.body.get("email"),
        full_name=str(launch.body.get("name") or ""),
    )
    member = membership_join(user=user, tenant=connection.tenant, role=role)
    context = _context_record(launch)
    if context is not None:
        course = _course_class(context)
        (course.students if member.role == Role.STUDENT else course.teachers).add(user)
    exercise = None if launch.is_deep_link else _launched_exercise(launch)
    if exercise is not None and member.role == Role.STUDENT:
        if not exercise.assign_to_all:
            exercise.assigned_students.add(user)
        ags = launch.ags
        if ags.get("lineitem") and tool.SCORE_SCOPE in (ags.get("scope") or []):
            LtiGradeTarget.objects.update_or_create(
                registration=launch.registration,
                exercise=exercise,
                user=user,
                defaults={
                    "sub": str(launch.body["sub"]),
                    "lineitem_url": ags["lineitem"][:500],
                    "scopes": list(ags["scope"]),
                },
            )
    return LaunchOutcome(user=user, member=member, exercise=exercise, deep_link=launch.is_deep_link)


def deep_link_exercise(*, member: Membership, public_id) -> Exercise:
    """The published exercise a teacher picks as an LMS assignment."""
    if not member.is_teacher:
        raise PermissionDenied("Only teachers can add exercises to a course.")
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise DomainError("Pick one of the published exercises.", code="exercise_missing") from None
    exercise = Exercise.objects.filter(
        public_id=public_id, status=Exercise.Status.PUBLISHED
    ).first()
    if exercise is None:
        raise DomainError("Pick one of the published exercises.", code="exercise_missing")
    return exercise


# --- Grade passback ---------------------------------------------------------------------------


def score_queue(*, reply: Reply) -> None:
    """After a review commits, send the grade to the LMS the student launched from, if any."""
    if reply.status != Reply.Status.REVIEWED:
        return
    if not LtiGradeTarget.objects.filter(
        exercise_id=reply.exercise_id, user_id=reply.student_id
    ).exists():
        return
    from learning.lti import tasks

    transaction.on_commit(lambda: tasks.lti_post_score.delay(reply.pk))


def score_post(*, reply_id: int) -> str:
    """POST the reply's score to each line item its student launched the exercise from:
    "posted", "refused" (the LMS said no; recorded on the target) or "skipped"."""
    reply = Reply.objects.filter(pk=reply_id).first()
    if reply is None or reply.status != Reply.Status.REVIEWED or reply.score_given is None:
        return "skipped"
    targets = LtiGradeTarget.objects.select_related("registration").filter(
        exercise_id=reply.exercise_id, user_id=reply.student_id
    )
    outcome = "skipped"
    for target in targets:
        try:
            tool.score_send(
                target.registration,
                lineitem_url=target.lineitem_url,
                scopes=target.scopes,
                sub=target.sub,
                score_given=reply.score_given,
                score_maximum=reply.score_maximum or 1.0,
                timestamp=(reply.reviewed_at or timezone.now()).isoformat(),
            )
        except tool.PlatformRefused as error:
            score_failed(target=target, reason=str(error)[:300])
            outcome = "refused"
            continue
        target.last_posted_at = timezone.now()
        target.last_error = ""
        target.save(update_fields=["last_posted_at", "last_error", "updated_at"])
        outcome = "posted" if outcome != "refused" else outcome
    return outcome


def score_failed(*, target: LtiGradeTarget, reason: str) -> None:
    target.last_error = reason
    target.save(update_fields=["last_error", "updated_at"])


def scores_failed(*, reply_id: int, reason: str) -> None:
    """Record a failure the retry policy gave up on, on every target of the reply."""
    reply = Reply.objects.filter(pk=reply_id).first()
    if reply is None:
        return
    for target in LtiGradeTarget.objects.filter(
        exercise_id=reply.exercise_id, user_id=reply.student_id
    ):
        score_failed(target=target, reason=reason)


# --- Roster (NRPS) ------------------------------------------------------------------------------


def roster_sync_request(*, member: Membership, context: LtiContext) -> None:
    """A teacher asks for a course's roster to be brought into its class."""
    if not member.is_teacher:
        raise PermissionDenied("Only teachers can sync a course's roster.")
    if not context.memberships_url:
        raise DomainError(
            "This course's LMS shares no roster (names and roles) with Practika.",
            code="roster_unavailable",
        )
    from learning.lti import tasks

    transaction.on_commit(lambda: tasks.lti_sync_roster.delay(context.pk))


@dataclass(frozen=True)
class RosterResult:
    members: int
    students: int
    skipped: int


@transaction.atomic
def roster_sync(*, context_id: int) -> RosterResult:
    """Bring a course's roster (NRPS) in: an account and membership for each active
    instructor and learner (made once), the learners into the course's class as its students,
    the instructors as its teachers."""
    context = LtiContext.objects.select_related("registration", "classroom").get(pk=context_id)
    try:
        members = tool.members_fetch(context.registration, memberships_url=context.memberships_url)
    except tool.PlatformRefused as error:
        roster_failed(context_id=context.pk, reason=str(error))
        return RosterResult(members=0, students=0, skipped=0)
    _course_class(context)
    students, teachers, skipped, joined, refusals = [], [], 0, 0, []
    for entry in members:
        role = tool.role_of(entry.get("roles") or [])
        if entry.get("status", "Active") != "Active" or role is None or not entry.get("user_id"):
            skipped += 1
            continue
        user = _account_for(
            registration=context.registration,
            sub=str(entry["user_id"]),
            email=entry.get("email"),
            full_name=str(entry.get("name") or ""),
        )
        try:
            with transaction.atomic():
                member = membership_join(user=user, tenant=connection.tenant, role=role)
        except DomainError as error:  # a plan's limit on students, say
            refusals.append(error.message)
            skipped += 1
            continue
        joined += 1
        (students if member.role == Role.STUDENT else teachers).append(user)
    context.classroom.students.add(*students)
    context.classroom.teachers.add(*teachers)
    context.roster_synced_at = timezone.now()
    context.roster_error = (
        f"{len(refusals)} of the course's people could not join: {refusals[0]}"[:300]
        if refusals
        else ""
    )
    context.save(update_fields=["classroom", "roster_synced_at", "roster_error", "updated_at"])
    return RosterResult(members=joined, students=len(students), skipped=skipped)


def roster_failed(*, context_id: int, reason: str) -> None:
    LtiContext.objects.filter(pk=context_id).update(roster_error=reason[:300])
