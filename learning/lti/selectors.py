"""LTI reads."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.urls import reverse

from learning.errors import NotFound
from learning.models import Exercise, LtiContext, LtiRegistration


def registrations() -> QuerySet[LtiRegistration]:
    return LtiRegistration.objects.order_by("name", "pk")


def registration_get(*, public_id: uuid.UUID) -> LtiRegistration:
    registration = LtiRegistration.objects.filter(public_id=public_id).first()
    if registration is None:
        raise NotFound("There is no such LMS connection.")
    return registration


def tool_endpoints(request) -> dict[str, str]:
    """What the admin pastes into the LMS: every URL on this school's own host."""
    absolute = request.build_absolute_uri
    launch = absolute(reverse("learning:lti:launch"))
    return {
        "login": absolute(reverse("learning:lti:login")),
        "launch": launch,
        "deep_link": launch,
        "jwks": absolute(reverse("learning:lti:jwks")),
    }


def courses() -> QuerySet[LtiContext]:
    return LtiContext.objects.select_related("registration", "classroom").order_by("title", "pk")


def course_get(*, public_id: uuid.UUID) -> LtiContext:
    context = LtiContext.objects.select_related("registration").filter(public_id=public_id).first()
    if context is None:
        raise NotFound("There is no such course.")
    return context


def exercises_to_link() -> QuerySet[Exercise]:
    return Exercise.objects.filter(status=Exercise.Status.PUBLISHED).order_by("title", "pk")
