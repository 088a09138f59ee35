"""A school filled with one of everything the core loop stores, for the isolation walk.

`populate(school)` creates, through the services (so the activity outbox, its handlers and
the notifications run as they do for a request): a class, an exercise with a stored
demonstration, a reply with a stored recording, a teacher's comment, the reply's alignment,
notifications, an invitation, an upload in progress, playback URLs and an unsubscribe link;
a student without email in the class (its sign-in code on) and a guardian's consent link.
Every title and body contains SECRET_MARK and the kind of object, so a leak is found by
searching a response for it.

The caller runs it inside a transaction that it rolls back (tests/tenants/test_isolation.py
does so for a whole module), so nothing is left behind for the next run with --reuse-db; the
stored files go to a folder the caller chooses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db.models import Model
from django.test import TestCase
from django_tenants.utils import tenant_context

from analytics import notifications
from analytics.models import Notification
from learning import storage
from learning.class_signin import services as class_signin
from learning.courses import services as courses
from learning.exercises import services as exercises
from learning.feedback_library import services as feedback_library
from learning.lti import services as lti
from learning.media import services as media_services
from learning.models import (
    ActivityEvent,
    Alignment,
    CourseCopy,
    Export,
    LtiContext,
    MediaFile,
    RubricLevel,
)
from learning.replies import services as replies
from learning.roster import services as roster
from learning.rubrics import services as rubrics
from learning.uploads import services as uploads
from tenants import services as tenants
from tenants import tokens
from tenants.models import GuardianConsent, Membership, Role, User
from tenants.services import guardian_consent
from tests.conftest import member
from tests.support.media_samples import sample

SECRET_MARK = "SCHOOL-B-SECRET"
INVITEE_EMAIL = "school-b-secret-invitee@example.com"
PLAYBACK_EXPIRES_S = 3600  # the module's tests run well within it


def secret(kind: str) -> str:
    return f"{SECRET_MARK}-{kind}"


@dataclass
class SchoolContent:
    """What `populate` made: ids by kind (as they appear in URLs) and the texts to hide."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    # Bytes of the stored files (a playback URL that plays them shows these).
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    # Playback URLs minted on the school's own host, by kind of file.
    playback_urls: dict[str, str] = field(default_factory=dict)
    # The objects themselves, for tests that look at their state afterwards.
    objects: dict[str, Model] = field(default_factory=dict)
    # The reply's rubric scores as the scores API takes them (school B's criteria and levels).
    scores: list[dict] = field(default_factory=list)

    def add(self, kind: str, *values) -> None:
        self.ids.setdefault(kind, []).extend(str(v) for v in values)


def _stored_media(*, owner, purpose: str, name: str, content: SchoolContent) -> MediaFile:
    """A processed media file whose rendition (a real MP4) and poster are stored files."""
    media = MediaFile(
        owner=owner,
        purpose=purpose,
        state=MediaFile.State.READY,
        original_name=f"{secret('file-' + name)}.mp4",
        has_audio=True,
        has_video=True,
        duration_s=2.0,
        width=640,
        height=360,
    )
    prefix = storage.media_prefix(media.public_id)
    media.source_key = f"{prefix}source"
    video, poster = f"{prefix}720p.mp4", f"{prefix}poster.jpg"
    storage.upload(
        path=sample("h264_faststart.mp4"), key=media.source_key, content_type="video/mp4"
    )
    storage.upload(path=sample("h264_faststart.mp4"), key=video, content_type="video/mp4")
    # Not a real JPEG: a file whose bytes name what they are, so a response carrying them is
    # found by the same text search as everything else.
    poster_path = sample("h264_faststart.mp4").parent / f"{media.public_id}-poster.jpg"
    poster_path.write_bytes(f"{secret(name + '-poster-bytes')}\n".encode() * 8)
    storage.upload(path=poster_path, key=poster, content_type="image/jpeg")
    media.renditions = {"720p": video}
    media.poster_key = poster
    media.save()
    content.file_bytes[f"{name}-video"] = sample("h264_faststart.mp4").read_bytes()
    content.file_bytes[f"{name}-poster"] = poster_path.read_bytes()
    content.texts += [secret(f"file-{name}"), secret(name + "-poster-bytes")]
    return media


def populate(school) -> SchoolContent:
    """Fill `school` with one of each kind of object; return their ids and secret texts."""
    content = SchoolContent()
    teacher = member(school.teacher, school.tenant)
    student = member(school.student, school.tenant)
    content.add(
        "membership",
        *Membership.objects.filter(tenant=school.tenant).values_list("public_id", flat=True),
    )
    content.add("tenant", school.tenant.public_id)
    content.add(
        "user",
        *[
            getattr(school, role).public_id
            for role in ("owner", "teacher", "student", "other_student")
        ],
    )
    content.add("join_code", school.tenant.join_code)
    # API tokens are the user's, not the school's: one of the teacher's, which nobody else
    # may list or revoke from any host.
    token = tokens.api_token_create(user=school.teacher)
    content.add("api_token", token.token.public_id)
    content.objects["api_token"] = token.token

    invitation = tenants.invitation_create(
        tenant=school.tenant, email=INVITEE_EMAIL, role=Role.TEACHER, actor=school.owner
    )
    content.add("invitation", invitation.public_id)
    content.add("invitation_token", invitation.token)
    content.objects["invitation"] = invitation
    # Made directly: a school asks no consent (studios do), but its link is a credential all
    # the same, which must open nothing on another host.
    consent = GuardianConsent.objects.create(
        tenant=school.tenant, student_email="school-b-child@example.com",
        guardian_email="school-b-guardian@example.com", requested_by=school.owner,
    )
    content.add("guardian_token", guardian_consent.guardian_link_token(consent=consent))
    content.objects["guardian_consent"] = consent
    content.add("guardian_consent", consent.public_id)

    # A platform staff member's pending support request (tenants.impersonation), with a reason
    # that no other school's host may show.
    support, _ = User.objects.get_or_create(
        email=f"support-for-{school.tenant.slug}@practika.example", defaults={"is_staff": True}
    )
    impersonation = tenants.impersonation_request(
        staff=support, tenant=school.tenant, member=student, reason=secret("support-reason")
    )
    content.add("impersonation", impersonation.public_id)

    # Run the on-commit work (activity handlers, notifications, live pushes) at once, as a
    # request's commit would, although the caller's transaction never commits.
    with tenant_context(school.tenant), TestCase.captureOnCommitCallbacks(execute=True):
        classroom = exercises.classroom_save(
            member=teacher, name=secret("class-name"), student_ids=[school.student.pk]
        )
        class_signin.classroom_code_rotate(member=teacher, classroom=classroom)
        managed = class_signin.classroom_student_create(
            member=teacher, classroom=classroom, full_name=secret("managed-student-name")
        )
        content.add("managed_account", managed.account.public_id)
        content.objects["managed_account"] = managed.account
        demo = _stored_media(
            owner=school.teacher,
            purpose=MediaFile.Purpose.DEMONSTRATION,
            name="demo",
            content=content,
        )
        exercise = exercises.exercise_save(
            member=teacher,
            title=secret("exercise-title"),
            instructions=secret("exercise-instructions"),
            instrument=secret("instrument"),
            demo=demo,
            assign_to_all=False,
            class_ids=[classroom.pk],
        )
        exercises.exercise_publish(member=teacher, exercise=exercise)
        recording = _stored_media(
            owner=school.student,
            purpose=MediaFile.Purpose.REPLY,
            name="reply-recording",
            content=content,
        )
        reply = replies.reply_create(
            member=student, exercise=exercise, media=recording, note=secret("reply-note")
        )
        comment = replies.comment_create(
            member=teacher, reply=reply, body=secret("comment-body"), at_ms=1500
        )
        answer = replies.comment_create(
            member=student,
            reply=reply,
            body=secret("comment-answer-body"),
            at_ms=1500,
            parent=comment,
        )
        rubric = rubrics.rubric_create(
            member=teacher,
            title=secret("rubric-title"),
            exercise=exercise,
            criteria=[
                rubrics.CriterionData(
                    title=secret("rubric-criterion"),
                    levels=[rubrics.LevelData(title=secret("rubric-level"), points=3)],
                )
            ],
        )
        level = RubricLevel.objects.select_related("criterion").get(criterion__rubric=rubric)
        content.scores = [
            {"criterion": str(level.criterion.public_id), "level": str(level.public_id)}
        ]
        # Scored, so reviewed: the walk must change neither the scores nor the review.
        scored = rubrics.reply_score(
            member=teacher,
            reply=reply,
            scores=[
                rubrics.ScoreData(
                    criterion=level.criterion.public_id,
                    level=level.public_id,
                    note=secret("rubric-note"),
                )
            ],
        )
        template = rubrics.rubric_copy(member=teacher, rubric=rubric)
        content.add("rubric", rubric.public_id, template.public_id)
        content.objects["scored_reply"] = scored
        alignment = Alignment.objects.get(reply=reply)
        alignment.status = Alignment.Status.NOT_ALIGNED
        alignment.reason = secret("alignment-reason")
        alignment.demo_media_public_id = demo.public_id
        alignment.reply_media_public_id = recording.public_id
        alignment.save()
        notifications.notify(
            recipient_ids=[school.owner.pk, school.teacher.pk, school.student.pk],
            kind=Notification.Kind.DUE_REMINDER,
            title=secret("notification-title"),
            body=secret("notification-body"),
            dedupe_key=f"isolation:{exercise.public_id}",
            url=f"/exercises/{exercise.public_id}/",
        )
        upload = uploads.upload_start(
            member=student,
            purpose=MediaFile.Purpose.REPLY,
            filename=f"{secret('upload')}.webm",
            size=1000,
            content_type="video/webm",
        )
        playback = media_services.media_playback(media=recording, expires_s=PLAYBACK_EXPIRES_S)
        content.playback_urls = {
            "reply-recording-video": playback.renditions["720p"],
            "reply-recording-poster": playback.poster,
        }
        content.add(
            "playback_token",
            *[
                storage.media_token(key, PLAYBACK_EXPIRES_S)
                for key in (*demo.renditions.values(), demo.poster_key)
            ],
            *[url.rstrip("/").rsplit("/", 1)[-1] for url in content.playback_urls.values()],
        )
        content.add(
            "unsubscribe_token",
            notifications.unsubscribe_token(
                user=school.student, kind=Notification.Kind.EXERCISE_ASSIGNED
            ),
        )
        content.add("upload_token", upload.token)
        lms = lti.registration_create(
            member=member(school.owner, school.tenant),
            name=secret("lti-registration"),
            issuer=f"https://{secret('lti-issuer')}.example",
            client_id=secret("lti-client"),
            deployment_ids=["1"],
            auth_login_url="https://lms.example/auth",
            access_token_url="https://lms.example/token",
            jwks_url="https://lms.example/jwks",
        )
        course = LtiContext.objects.create(
            registration=lms,
            context_id="course-1",
            title=secret("lti-course"),
            memberships_url="https://lms.example/memberships",
            classroom=classroom,
        )
        content.add("lti_registration", lms.public_id)
        content.add("lti_course", course.public_id)
        roster_import = roster.roster_upload(
            member=member(school.owner, school.tenant),
            sign_in="invitation",
            uploads=[
                (
                    f"{secret('roster-file')}.csv",
                    (
                        f"email,first_name,role\r\nroster.person@example.org,{secret('roster-name')},"
                        "student\r\n"
                    ).encode(),
                )
            ],
        )
        content.add("roster_import", roster_import.public_id)

        content.add("classroom", classroom.public_id)
        content.add("exercise", exercise.public_id)
        content.add("media", demo.public_id, recording.public_id, upload.media.public_id)
        content.add("reply", reply.public_id)
        content.add("comment", comment.public_id, answer.public_id)
        content.add("alignment", alignment.public_id)
        # A finished export of the school (its archive is not needed: the walk asks for it
        # by id only, where a member of school A could try).
        export = Export.objects.create(
            scope=Export.Scope.TENANT,
            requested_by=school.owner,
            state=Export.State.READY,
            progress=100,
            key=f"{storage.tenant_prefix()}exports/{uuid.uuid4()}.zip",
        )
        content.add("export", export.public_id)
        # The feedback library: a teacher's private saved comment and a shared one.
        saved = [
            feedback_library.saved_comment_create(
                member=teacher, body=secret(f"saved-comment-{n}"), shared=bool(n)
            )
            for n in range(2)
        ]
        content.add("saved_comment", *(s.public_id for s in saved))
        # A course with a unit and an item (learning.courses), and a copy asked for elsewhere.
        taught = courses.course_save(member=teacher, title=secret("course-title"))
        unit = courses.unit_add(member=teacher, course=taught, title=secret("course-unit"))
        step = exercises.exercise_save(
            member=teacher, title=secret("course-step"), demo=demo, assign_to_all=False,
            class_ids=[classroom.pk],
        )  # fmt: skip
        item = courses.item_add(member=teacher, unit=unit, exercise=step)
        course_copy = CourseCopy.objects.create(
            requested_by=school.teacher, target_tenant_id=uuid.uuid4(), course=taught,
            error_message=secret("course-copy"),
        )  # fmt: skip
        content.add("course", taught.public_id)
        content.add("course_item", item.public_id)
        content.add("course_copy", course_copy.public_id)
        content.objects.update(
            exercise=exercise,
            reply=reply,
            comment=comment,
            recording=recording,
            upload=upload.media,
        )

    # The handlers have run (on leaving the block above): collect what they wrote.
    with tenant_context(school.tenant):
        content.add("notification", *Notification.objects.values_list("public_id", flat=True))
        content.add("activity", *ActivityEvent.objects.values_list("public_id", flat=True))
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert {
            Notification.Kind.EXERCISE_ASSIGNED,
            Notification.Kind.REPLY_TO_REVIEW,
            Notification.Kind.NEW_COMMENT,
            Notification.Kind.DUE_REMINDER,
        } <= kinds, kinds

    content.texts += [
        secret("class-name"),
        secret("exercise-title"),
        secret("exercise-instructions"),
        secret("instrument"),
        secret("reply-note"),
        secret("comment-body"),
        secret("comment-answer-body"),
        secret("alignment-reason"),
        secret("notification-title"),
        secret("notification-body"),
        secret("upload"),
        INVITEE_EMAIL,
        secret("lti-registration"),
        secret("lti-issuer"),
        secret("lti-client"),
        secret("lti-course"),
        secret("roster-file"),
        secret("saved-comment-0"),
        secret("saved-comment-1"),
        secret("course-title"),
        secret("course-unit"),
        secret("course-step"),
        secret("course-copy"),
        secret("rubric-title"),
        secret("rubric-criterion"),
        secret("rubric-level"),
        secret("rubric-note"),
    ]
    return content


def uuid_forms(value: str) -> list[str]:
    """A UUID as it may appear in a response: with dashes, and as 32 hex digits."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return [value]
    return [str(parsed), parsed.hex]
