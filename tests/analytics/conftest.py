"""Fixtures for analytics: a school's schema entered for the test, the core loop driven
through its services (so events go through the real outbox and handlers), eager Celery."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from config import celery_app
from learning.exercises import services as exercise_services
from learning.models import Exercise, MediaFile
from learning.replies import services as reply_services
from tenants.models import Membership
from tests.conftest import member
from tests.support.factories import MediaFileFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_tasks():
    """Queued tasks run at once (after commit) in the test's process."""
    conf = celery_app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


@pytest.fixture
def in_a(school_a):
    with tenant_context(school_a.tenant):
        yield school_a


@dataclass
class Loop:
    """The core loop of one school, driven through the learning services with on-commit
    callbacks executed, as a request would."""

    school: object
    capture: object

    def m(self, user) -> Membership:
        return member(user, self.school.tenant)

    def publish(self, teacher, title: str = "Scales", **fields) -> Exercise:
        actor = self.m(teacher)
        with self.capture(execute=True):
            demo = MediaFileFactory(owner=teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
            exercise = exercise_services.exercise_save(
                member=actor, title=title, demo=demo, **fields
            )
            exercise_services.exercise_publish(member=actor, exercise=exercise)
        return exercise

    def reply(self, student, exercise):
        with self.capture(execute=True):
            media = MediaFileFactory(owner=student)
            return reply_services.reply_create(
                member=self.m(student), exercise=exercise, media=media
            )

    def review(self, teacher, reply, status="reviewed"):
        with self.capture(execute=True):
            return reply_services.reply_review(member=self.m(teacher), reply=reply, status=status)

    def comment(self, author, reply, body="Listen to the bow change here.", at_ms=1500):
        with self.capture(execute=True):
            return reply_services.comment_create(
                member=self.m(author), reply=reply, body=body, at_ms=at_ms
            )


@pytest.fixture
def loop(in_a, django_capture_on_commit_callbacks) -> Loop:
    return Loop(school=in_a, capture=django_capture_on_commit_callbacks)
