"""Factories for the core loop. Use them inside a tenant's schema (tenant_context)."""

from __future__ import annotations

import uuid

import factory
from django.db import connection
from django.utils import timezone

from learning.models import Comment, Exercise, MediaFile, Reply


def _key(media: MediaFile) -> str:
    return f"tenants/{connection.tenant.public_id}/media/{media.public_id}/source"


class MediaFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaFile

    purpose = MediaFile.Purpose.REPLY
    state = MediaFile.State.READY
    public_id = factory.LazyFunction(uuid.uuid4)
    source_key = factory.LazyAttribute(_key)
    original_name = "take.webm"
    has_audio = True
    has_video = True
    duration_s = 30.0


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise

    title = factory.Sequence(lambda n: f"Scale exercise {n}")
    instructions = "Play **slowly**."
    status = Exercise.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    demo = factory.SubFactory(
        MediaFileFactory,
        purpose=MediaFile.Purpose.DEMONSTRATION,
        owner=factory.SelfAttribute("..created_by"),
    )


class ReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reply

    exercise = factory.SubFactory(ExerciseFactory)
    attempt = factory.Sequence(lambda n: n + 1)
    media = factory.SubFactory(MediaFileFactory, owner=factory.SelfAttribute("..student"))


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    at_ms = 1500
    body = "Watch the bow here."
