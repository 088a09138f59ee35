"""Something on every main page of a school: an exercise with a demonstration, a student's
reply and a teacher's comment, made with real recordings and processed for real (the same
transcode and alignment a worker runs), so that pages that show media show it.

Used by the page-layout browser tests (tests/platform/test_pages_browser.py) and the
Lighthouse bench (bench/lighthouse.py). The stored files go to `private_media_root`: the
folder of the live server that will serve them.

    tour = seed(tenant=..., teacher=..., student=..., private_media_root=...)
    ...
    remove(tenant=..., tour=tour)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.test import override_settings
from django_tenants.utils import tenant_context

from learning import storage
from learning.alignment import services as alignment_services
from learning.exercises import services as exercises
from learning.media import services as media_services
from learning.models import Classroom, Exercise, MediaFile, Rubric
from learning.replies import services as replies
from tenants.models import Membership, Tenant, User
from tests.support.media_samples import sample


@dataclass(frozen=True)
class Tour:
    title: str
    exercise: str  # public ids, as in the pages' URLs
    reply: str
    rubric: str = ""  # the exercise's rubric (scored) and the class whose gradebook shows it
    classroom: str = ""

    def pages(self, role: str) -> list[str]:
        """The main pages a member with `role` opens ("teacher", "student" or "admin")."""
        if role == "teacher":
            return [
                "/",
                "/dashboard/",
                "/teach/exercises/",
                f"/teach/exercises/{self.exercise}/",
                "/teach/exercises/new/",
                "/teach/inbox/",
                "/teach/classes/",
                "/teach/feedback-library/",
                f"/teach/classes/{self.classroom}/gradebook/",
                "/teach/rubrics/",
                f"/teach/rubrics/{self.rubric}/",
                f"/replies/{self.reply}/",
                "/notifications/",
                "/notifications/preferences/",
            ]
        if role == "student":
            return [
                "/",
                "/dashboard/",
                "/exercises/",
                f"/exercises/{self.exercise}/",
                "/replies/",
                f"/replies/{self.reply}/",
                "/me/plan/",
                "/notifications/",
                "/my-data/",
            ]
        return [
            "/manage/members/", "/manage/settings/", "/manage/billing/", "/dashboard/school/",
            "/manage/export/",
        ]


def _recording(*, owner: User, purpose: str, path: Path) -> MediaFile:
    """Store `path` as an upload of `owner`'s and process it, as the worker would."""
    media = MediaFile(
        owner=owner,
        purpose=purpose,
        state=MediaFile.State.UPLOADED,
        original_name=path.name,
        size_bytes=path.stat().st_size,
    )
    media.source_key = f"{storage.media_prefix(media.public_id)}source"
    storage.upload(path=path, key=media.source_key, content_type="video/mp4")
    media.save()
    processed = media_services.media_process(media_id=media.pk)
    assert processed is not None and processed.state == MediaFile.State.READY, processed
    return processed


def seed(*, tenant: Tenant, teacher: User, student: User, private_media_root: Path) -> Tour:
    """A published exercise assigned to everyone, a reply of `student`'s and a comment."""
    title = f"Page tour minuet {uuid.uuid4().hex[:6]}"
    with override_settings(PRIVATE_MEDIA_ROOT=str(private_media_root)), tenant_context(tenant):
        teacher_member = Membership.objects.select_related("user", "tenant").get(
            user=teacher, tenant=tenant
        )
        student_member = Membership.objects.select_related("user", "tenant").get(
            user=student, tenant=tenant
        )
        demo = _recording(
            owner=teacher,
            purpose=MediaFile.Purpose.DEMONSTRATION,
            path=sample("h264_faststart.mp4"),
        )
        exercise = exercises.exercise_save(
            member=teacher_member,
            title=title,
            instructions="Play bars 1-8 **slowly**.",
            instrument="Violin",
            demo=demo,
            assign_to_all=True,
        )
        exercises.exercise_publish(member=teacher_member, exercise=exercise)
        recording = _recording(
            owner=student, purpose=MediaFile.Purpose.REPLY, path=sample("h264_aac.mp4")
        )
        reply = replies.reply_create(
            member=student_member, exercise=exercise, media=recording, note="My first take"
        )
        replies.comment_create(
            member=teacher_member, reply=reply, body="Lovely tone here.", at_ms=800
        )
        alignment_services.alignment_compute(reply_id=reply.pk)
        rubric = _scored_rubric(member=teacher_member, exercise=exercise, reply=reply, title=title)
        classroom = exercises.classroom_save(
            member=teacher_member, name=title, student_ids=[student.pk]
        )
        return Tour(
            title=title,
            exercise=str(exercise.public_id),
            reply=str(reply.public_id),
            rubric=str(rubric.public_id),
            classroom=str(classroom.public_id),
        )


def _scored_rubric(*, member, exercise, reply, title: str):
    """A rubric on the exercise with the reply scored, and a copy of it in the library."""
    from learning.rubrics import services as rubrics

    def levels(*named):
        return [rubrics.LevelData(title=name, points=points) for name, points in named]

    rubric = rubrics.rubric_create(
        member=member,
        title=title,
        exercise=exercise,
        criteria=[
            rubrics.CriterionData(
                title="Intonation", levels=levels(("Out of tune", 0), ("In tune", 3))
            ),
            rubrics.CriterionData(
                title="Rhythm",
                description="Even quavers",
                levels=levels(("Rushed", 1), ("Steady", 2)),
            ),
        ],
    )
    rubrics.reply_score(
        member=member,
        reply=reply,
        scores=[
            rubrics.ScoreData(
                criterion=criterion.public_id,
                level=criterion.levels.last().public_id,
                note="Well done",
            )
            for criterion in rubric.criteria.all()
        ],
    )
    rubrics.rubric_copy(member=member, rubric=rubric)
    return rubric


def remove(*, tenant: Tenant, tour: Tour) -> None:
    """Delete the tour's exercise, its reply and their recordings' rows."""
    with tenant_context(tenant):
        Rubric.objects.filter(title=tour.title, exercise__isnull=True).delete()
        Classroom.objects.filter(name=tour.title).delete()
        for exercise in Exercise.objects.filter(title=tour.title):
            media = [exercise.demo_id, *exercise.replies.values_list("media_id", flat=True)]
            exercise.delete()
            MediaFile.objects.filter(pk__in=[m for m in media if m]).delete()
