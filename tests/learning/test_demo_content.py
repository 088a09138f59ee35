"""The demo's sample exercise (learning/demo_content.py, run by `make dev` through the
`seed_demo_content` command): real recordings made with the bundled ffmpeg, processed by the
media pipeline and aligned by the engine, so that the teacher's inbox holds a reply whose
compare page plays both sides with the analysis shown; and nothing twice."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from learning import demo_content
from learning.media.pipeline import probe
from learning.models import Alignment, Comment, Exercise, MediaFile, Reply, Rubric, SavedComment
from tests.conftest import client_for, member


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    return demo_content.demo_recordings(tmp_path_factory.mktemp("demo"))


def test_the_demo_recordings_are_a_landscape_demonstration_and_a_portrait_reply(recordings):
    demo, reply = probe(recordings.demonstration), probe(recordings.reply)

    assert (demo.display_width, demo.display_height) == (640, 360)
    assert (reply.display_width, reply.display_height) == (360, 640)
    assert demo.has_audio and reply.has_audio
    assert 12 <= demo.duration_s <= 15 and 12 <= reply.duration_s <= 16


def test_the_sample_reply_is_processed_aligned_commented_and_in_the_inbox(school_a, recordings):
    teacher = member(school_a.teacher, school_a.tenant)
    student = member(school_a.student, school_a.tenant)

    with tenant_context(school_a.tenant):
        reply = demo_content.demo_content_ensure(
            teacher=teacher, student=student, recordings=recordings
        )

        # Both recordings went through the pipeline to playable renditions
        assert reply is not None
        exercise = reply.exercise
        assert exercise.status == Exercise.Status.PUBLISHED
        assert exercise.demo.state == MediaFile.State.READY and exercise.demo.renditions
        assert reply.media.state == MediaFile.State.READY and reply.media.renditions
        # The engine aligned them: a time map for auto-sync and a summary for the page
        alignment = Alignment.objects.get(reply=reply)
        assert alignment.status == Alignment.Status.READY, alignment.reason
        assert len(alignment.time_map["demo_ms"]) > 50
        assert alignment.summary["tempo_ratio"] is not None
        # The reply rushes from 4 s to 7.5 s of the score (5.5-9 s of the demonstration)
        rushed = [b for b in alignment.bands if b["kind"] == "rushed"]
        assert len(rushed) == 1 and 4_000 <= rushed[0]["start_ms"] <= 6_500, alignment.bands
        assert Comment.objects.filter(reply=reply, author=school_a.teacher).count() == 1
        # With marks on the reply's frame, and the feedback library's first shared entries
        comment = Comment.objects.get(reply=reply, author=school_a.teacher)
        assert [shape["kind"] for shape in comment.drawing] == ["circle", "arrow"]
        shared = SavedComment.objects.filter(shared=True, owner=school_a.teacher)
        assert shared.count() == len(demo_content.SAVED_COMMENTS)
        # A copy of the library's sample rubric, not scored yet (the reply stays in the inbox)
        rubric = Rubric.objects.get(exercise=exercise)
        assert rubric.copied_from.is_template and rubric.criteria.count() == 3
        assert reply.score_given is None

        # And a second start adds nothing
        again = demo_content.demo_content_ensure(
            teacher=teacher, student=student, recordings=recordings
        )
        assert again is None
        assert Exercise.objects.filter(tags__contains=["demo"]).count() == 1
        assert Reply.objects.filter(exercise=exercise).count() == 1

        # While a start interrupted after the reply (no analysis, no comment yet) is finished
        Comment.objects.filter(reply=reply).delete()
        Alignment.objects.filter(reply=reply).update(status=Alignment.Status.PENDING)
        assert not demo_content.demo_complete()
        media_before = MediaFile.objects.count()
        resumed = demo_content.demo_content_ensure(
            teacher=teacher, student=student, recordings=recordings
        )
        assert resumed == reply
        assert Reply.objects.filter(exercise=exercise).count() == 1
        assert MediaFile.objects.count() == media_before  # no recording made again
        assert Comment.objects.filter(reply=reply).count() == 1
        assert demo_content.demo_complete()

    # The teacher's inbox holds the reply, and its compare page has both sides and the analysis
    teacher_client = client_for(school_a.teacher, school_a.host)
    inbox = teacher_client.get("/teach/inbox/").content.decode()
    assert f"/replies/{reply.public_id}/" in inbox
    page = teacher_client.get(f"/replies/{reply.public_id}/")
    assert page.status_code == 200
    config = page.context["config"]
    assert config["left"]["sources"] and config["right"]["sources"]
    assert page.context["analysis"]["status"] == "ready"
    api = teacher_client.get(f"/api/v1/replies/{reply.public_id}/alignment/").json()
    assert api["status"] == "ready" and api["time_map"]["demo_ms"]
    comments = teacher_client.get(f"/api/v1/replies/{reply.public_id}/comments/").json()
    assert [c["body"] for c in comments] == [demo_content.COMMENT]


def test_the_seed_command_is_for_development_only(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("seed_demo_content")
