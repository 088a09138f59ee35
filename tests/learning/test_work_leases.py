"""Leases on running jobs and the watchdog (learning.jobs): a job whose run stopped renewing
its lease is queued again under a new token, in its own tenant's schema; the new run, and only
it, may claim the job; a late redelivery of the dead run's message does nothing; a run that
lost its lease drops its result. The broker is the one boundary faked here (the queued
message is recorded instead of sent); tests/learning/test_worker_kill.py runs it all with a
real worker and Redis.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.utils import timezone

from learning import storage
from learning.alignment import tasks as alignment_tasks
from learning.jobs import leases
from learning.jobs import tasks as job_tasks
from learning.media import pipeline
from learning.media import tasks as media_tasks
from learning.models import Alignment, MediaFile
from tenants.models import JobLease
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory
from tests.support.media_samples import sample


@pytest.fixture(autouse=True)
def no_other_leases(db):
    """The watchdog reads every tenant's leases: start from none, whatever an earlier test's
    live worker left behind (its jobs stopped with it, so the watchdog would drop them)."""
    JobLease.objects.all().delete()


@pytest.fixture
def queued(monkeypatch):
    """What the watchdog queues: (task name, args, task id, schema it was queued in)."""
    sent = []
    for task in (media_tasks.process_media, alignment_tasks.align_reply):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args, task_id, name=task.name: sent.append(
                (name, args, task_id, connection.schema_name)
            ),
        )
    return sent


def _lease(kind: str, object_id: int, *, token: str, expires_in_s: float) -> JobLease:
    return JobLease.objects.create(
        tenant_id=connection.tenant.pk,
        kind=kind,
        object_id=object_id,
        token=token,
        expires_at=timezone.now() + timedelta(seconds=expires_in_s),
    )


def _lease_of(kind: str, object_id: int) -> JobLease | None:
    return JobLease.objects.filter(
        tenant_id=connection.tenant.pk, kind=kind, object_id=object_id
    ).first()


def _processing(school, *, expires_in_s: float, token: str = "dead-run") -> MediaFile:  # noqa: S107
    media = MediaFileFactory(
        owner=school.student,
        state=MediaFile.State.PROCESSING,
        processing_attempts=1,
        original_name="h264_aac.mp4",
        has_audio=False,
        has_video=False,
        duration_s=None,
    )
    storage.upload(path=sample("h264_aac.mp4"), key=media.source_key, content_type="video/mp4")
    _lease(leases.MEDIA, media.pk, token=token, expires_in_s=expires_in_s)
    return media


def test_a_lapsed_media_job_is_queued_again_in_its_school_and_processed_once(
    school_a, school_b, in_tenant, queued
):
    with in_tenant(school_a.tenant):
        # Given a job whose worker died (its lease lapsed), and one whose run is alive
        dead = _processing(school_a, expires_in_s=-5)
        alive = _processing(school_a, expires_in_s=20, token="live-run")

    # When the watchdog's beat task runs (from the public schema, as beat queues it)
    result = job_tasks.lapsed_jobs_requeue.apply().get()

    # Then only the dead one is queued again, inside school A, under a new token
    assert result == {"media": 1, "alignments": 0, "dropped": 0}
    [(name, args, token, schema)] = queued
    assert (name, args, schema) == (
        "learning.process_media",
        [dead.pk],
        school_a.tenant.schema_name,
    )
    with in_tenant(school_a.tenant):
        lease = _lease_of(leases.MEDIA, dead.pk)
        assert lease.token == token
        assert lease.expires_at > timezone.now() + timedelta(minutes=5)
        # A late redelivery of the dead run's message (another task id) does nothing
        assert media_tasks.process_media.apply(args=[dead.pk], task_id="dead-run").get() == (
            "skipped"
        )
        dead.refresh_from_db()
        assert (dead.state, dead.processing_attempts) == ("processing", 1)
        # The watchdog's message is processed, once, and its lease released
        assert media_tasks.process_media.apply(args=[dead.pk], task_id=token).get() == "ready"
        dead.refresh_from_db()
        assert dead.processing_attempts == 2
        assert _lease_of(leases.MEDIA, dead.pk) is None
        assert _lease_of(leases.MEDIA, alive.pk).token == "live-run"
    # And a second beat finds nothing more to do
    assert job_tasks.lapsed_jobs_requeue.apply().get() == {
        "media": 0,
        "alignments": 0,
        "dropped": 0,
    }
    assert len(queued) == 1


def test_the_watchdog_finds_every_school_s_lapsed_jobs_in_one_query(
    school_a, school_b, in_tenant, queued, django_assert_max_num_queries
):
    with in_tenant(school_a.tenant):
        _processing(school_a, expires_in_s=-1)
    with in_tenant(school_b.tenant):
        gone = _processing(school_b, expires_in_s=-1)
        done = _processing(school_b, expires_in_s=-1)
        MediaFile.objects.filter(pk=done.pk).update(state="ready")  # finished, lease left over
        MediaFile.objects.filter(pk=gone.pk).delete()

    result = job_tasks.lapsed_jobs_requeue.apply().get()

    assert result == {"media": 1, "alignments": 0, "dropped": 2}
    assert [(schema) for (_, _, _, schema) in queued] == [school_a.tenant.schema_name]
    with in_tenant(school_b.tenant):
        assert _lease_of(leases.MEDIA, done.pk) is None
    # With nothing lapsed, a beat costs one query, whatever the tenants (plus the task's
    # `SET search_path` and its transaction's savepoint and release, inside the test's).
    with django_assert_max_num_queries(4):
        job_tasks.lapsed_jobs_requeue.apply().get()


def test_a_run_that_lost_its_lease_drops_its_result(school_a, in_tenant, monkeypatch):
    with in_tenant(school_a.tenant):
        media = _processing(school_a, expires_in_s=-60)
        real_transcode = pipeline.transcode

        def taken_over_meanwhile(*args, **kwargs):
            # The watchdog gave the job to another run while this one was slow.
            JobLease.objects.filter(object_id=media.pk).update(token="newer-run")
            return real_transcode(*args, **kwargs)

        monkeypatch.setattr(pipeline, "transcode", taken_over_meanwhile)

        assert media_tasks.process_media.apply(args=[media.pk], task_id="slow-run").get() == (
            "skipped"
        )
        media.refresh_from_db()
        assert (media.state, media.renditions) == ("processing", {})
        assert _lease_of(leases.MEDIA, media.pk).token == "newer-run"


def test_a_retry_keeps_its_lease_for_the_backoff(school_a, in_tenant, monkeypatch):
    def unavailable(**kwargs):
        raise storage.StorageUnavailable("down")

    monkeypatch.setattr(storage, "download", unavailable)
    # The retry's message is the boundary: recorded, not run in-process at once (eager apply).
    waits = []
    monkeypatch.setattr(
        media_tasks.process_media,
        "retry",
        lambda exc, countdown: waits.append(countdown) or Retry(exc=exc, when=countdown),
    )
    with in_tenant(school_a.tenant):
        media = MediaFileFactory(owner=school_a.student, state=MediaFile.State.UPLOADED)
        before = timezone.now()

        media_tasks.process_media.apply(args=[media.pk], task_id="retrying-run")

        media.refresh_from_db()
        lease = _lease_of(leases.MEDIA, media.pk)
        assert media.state == "processing" and lease.token == "retrying-run"
        # The first retry waits up to 15 s (full jitter); the lease covers it plus a lease.
        [wait] = waits
        assert 0 <= wait <= 15
        assert lease.expires_at >= before + timedelta(seconds=wait + leases.LEASE_S)
        assert lease.expires_at <= timezone.now() + timedelta(seconds=wait + leases.LEASE_S)


def test_a_lapsed_alignment_is_queued_again(school_a, in_tenant, queued):
    with in_tenant(school_a.tenant):
        reply = ReplyFactory(
            exercise=ExerciseFactory(created_by=school_a.teacher), student=school_a.student
        )
        Alignment.objects.create(reply=reply, status=Alignment.Status.PENDING)
        _lease(leases.ALIGNMENT, reply.pk, token="dead-run", expires_in_s=-1)

    assert job_tasks.lapsed_jobs_requeue.apply().get() == {
        "media": 0,
        "alignments": 1,
        "dropped": 0,
    }

    [(name, args, token, schema)] = queued
    assert (name, args, schema) == ("learning.align_reply", [reply.pk], school_a.tenant.schema_name)
    with in_tenant(school_a.tenant):
        # The dead run's late redelivery is refused; the new token holds the job.
        assert alignment_tasks.align_reply.apply(args=[reply.pk], task_id="dead-run").get() == (
            "skipped"
        )
        assert _lease_of(leases.ALIGNMENT, reply.pk).token == token


def test_a_lease_inside_schema_context_finds_its_tenant(school_a):
    # schema_context sets only the schema's name (no tenant row): the lease still finds it.
    from django_tenants.utils import schema_context

    with schema_context(school_a.tenant.schema_name):
        assert leases.lease_claim(leases.MEDIA, 123, "a-run")
        assert leases.lease_held(leases.MEDIA, 123, "a-run")
    assert JobLease.objects.get(kind=leases.MEDIA, object_id=123).tenant_id == school_a.tenant.pk
