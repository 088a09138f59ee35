"""A small school for the export tests: an exercise with a stored demonstration, replies with
stored recordings from two students, comments, an alignment, a notification, practice time
and a billing history — every kind of row an export must carry, each findable by its text."""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from analytics.models import DailyActivity, Notification
from billing.models import Invoice, Subscription, SubscriptionChange
from learning import storage
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
    Rubric,
    RubricCriterion,
    RubricLevel,
    RubricScore,
)
from tests.support.media_samples import sample


@dataclass
class Content:
    exercise: Exercise
    demo: MediaFile
    replies: list[Reply]
    comments: list[Comment]
    media: list[MediaFile]
    # storage key -> the bytes stored there
    files: dict[str, bytes] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def _recording(owner, purpose: str, files: dict[str, bytes]) -> MediaFile:
    media = MediaFile(
        owner=owner,
        purpose=purpose,
        state=MediaFile.State.READY,
        original_name="take.MP4",
        has_audio=True,
        has_video=True,
        duration_s=2.0,
        width=640,
        height=360,
        size_bytes=sample("h264_aac.mp4").stat().st_size,
    )
    prefix = storage.media_prefix(media.public_id)
    media.source_key = f"{prefix}source"
    media.renditions = {"720p": f"{prefix}720p.mp4"}
    media.poster_key = f"{prefix}poster.jpg"
    poster = sample("h264_aac.mp4").parent / f"{media.public_id}.jpg"
    poster.write_bytes(f"poster of {media.public_id}".encode())
    for key, path in (
        (media.source_key, sample("h264_aac.mp4")),
        (media.renditions["720p"], sample("h264_faststart.mp4")),
        (media.poster_key, poster),
    ):
        storage.upload(path=path, key=key, content_type="application/octet-stream")
        files[key] = path.read_bytes()
    media.save()
    return media


def make_content(school) -> Content:
    """Inside school's schema; the public rows (billing) are the test transaction's too."""
    tag = uuid.uuid4().hex[:8]
    files: dict[str, bytes] = {}
    with TestCase.captureOnCommitCallbacks(execute=False):
        demo = _recording(school.teacher, MediaFile.Purpose.DEMONSTRATION, files)
        exercise = Exercise.objects.create(
            title=f"Scales {tag}",
            instructions=f"Slowly, {tag}",
            demo=demo,
            status=Exercise.Status.PUBLISHED,
            published_at=timezone.now(),
            created_by=school.teacher,
        )
        classroom = Classroom.objects.create(
            name=f"Strings {tag}", created_by=school.teacher, ends_on=timezone.now().date()
        )
        classroom.students.add(school.student)
        classroom.teachers.add(school.teacher)
        exercise.assigned_classes.add(classroom)
        course = Course.objects.create(title=f"Course {tag}", created_by=school.teacher)
        course.assigned_classes.add(classroom)
        unit = CourseUnit.objects.create(course=course, title=f"Unit {tag}")
        CourseItem.objects.create(unit=unit, exercise=exercise)
        rubric = Rubric.objects.create(title=f"Rubric {tag}", exercise=exercise)
        criterion = RubricCriterion.objects.create(rubric=rubric, position=0, title="Tone")
        level = RubricLevel.objects.create(
            criterion=criterion, position=0, title=f"Singing {tag}", points="2.5"
        )
        replies, comments, media = [], [], [demo]
        for number, student in enumerate((school.student, school.other_student), start=1):
            recording = _recording(student, MediaFile.Purpose.REPLY, files)
            media.append(recording)
            reply = Reply.objects.create(
                exercise=exercise,
                student=student,
                attempt=1,
                media=recording,
                note=f"note {number} {tag}",
            )
            replies.append(reply)
            RubricScore.objects.create(
                reply=reply, criterion=criterion, level=level, note=f"scored {number} {tag}"
            )
            Alignment.objects.create(
                reply=reply, status=Alignment.Status.NOT_ALIGNED, reason=f"reason {number} {tag}"
            )
            comments.append(
                Comment.objects.create(
                    reply=reply,
                    author=school.teacher,
                    at_ms=1200,
                    body=f"teacher on {number} {tag}",
                )
            )
            comments.append(
                Comment.objects.create(
                    reply=reply,
                    author=student,
                    at_ms=1500,
                    body=f"student {number} answers {tag}",
                    parent=comments[-1],
                )
            )
            ActivityEvent.objects.create(
                kind=ActivityEvent.Kind.PRACTICE,
                actor=student,
                occurred_at=timezone.now(),
                data={"seconds": 60 * number, "tag": tag},
            )
            Notification.objects.create(
                recipient=student,
                kind=Notification.Kind.FEEDBACK_RECEIVED,
                title=f"notified {number} {tag}",
                dedupe_key=f"t:{tag}:{number}",
            )
            DailyActivity.objects.create(
                user=student,
                day=timezone.now().date(),
                role="student",
                practice_seconds=60,
            )
        PeerReview.objects.create(
            exercise=exercise,
            reviewer=school.other_student,
            reply=replies[0],
            reviewee=school.student,
        )
        formula = f"=HYPERLINK(evil-{tag})"
        comments.append(
            Comment.objects.create(
                reply=replies[0], author=school.student, at_ms=1600, body=formula
            )
        )
    subscription = Subscription.objects.create(
        tenant=school.tenant,
        plan_code="school",
        status="active",
        quantity=2,
        stripe_subscription_id=f"sub_{tag}",
        unit_amount=500,
    )
    SubscriptionChange.objects.create(
        subscription=subscription,
        status="active",
        plan_code="school",
        quantity=2,
        mrr_cents=1000,
        at=timezone.now() - timedelta(days=3),
    )
    Invoice.objects.create(
        stripe_invoice_id=f"in_{tag}",
        subscription=subscription,
        number=f"INV-{tag}",
        status="paid",
        amount_due=1000,
        amount_paid=1000,
    )
    return Content(
        exercise=exercise,
        demo=demo,
        replies=replies,
        comments=comments,
        media=media,
        files=files,
        texts={"formula": formula, "tag": tag, "invoice": f"INV-{tag}", "class": classroom.name},
    )


def archive_of(export) -> zipfile.ZipFile:
    """The export's ZIP, read back from storage (inside the tenant's schema)."""
    import io

    with storage.open_read(export.key) as stream:
        return zipfile.ZipFile(io.BytesIO(stream.read()))
