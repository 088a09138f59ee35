"""The rendered lists of the teachers' inbox and exercise list, and the heavier reads of the
student's exercise page, the compare page and the inbox's filters, cached per version of the
rows they show.

A list is the larger part of its page's CPU (its query, 50 rows through the template); the page
around it (the member's chrome, the CSRF token of the logout form, the CSP nonce) is rendered on
every request as before. A part holds no form, no token, no nonce and no signed media URL, and is
rendered without the request.

`version()` names the state of what those pages show, and of whole pages kept per member
(tenants.page_cache): the tenant's learning rows and its members. It changes
whenever one of them is written, in any process, before the writer's transaction commits and
again when it does (a request that read the old rows in between stores them under a version
that is already gone):

- any save or delete of a row of any model of learning but `ActivityEvent` (post_save /
  post_delete: unlike a model's `delete()` they fire for cascades and `QuerySet.delete()` too),
  and any change of one of their many-to-many relations (m2m_changed);
- the `QuerySet.update()` and bulk calls of learning, which send no signal and call `bump()`
  themselves (tests/learning/test_page_parts.py fails on one that does not);
- a save of a user, in every tenant they belong to (the inbox shows students' names);
- a save or delete of a `Membership`, an `Invitation` or a `GuardianConsent` (public schema),
  in its tenant: a role decides who a reply can be assigned to, members and invitations tick
  the onboarding checklist, a consent opens a young student's uploads.

`value()` keeps a read's result (model instances with what they selected) the same way as
`part()` keeps HTML: only for pages, never for a service that writes what it read.

A list of replies is keyed by what decides its rows for the viewer as well
(`learning.replies.selectors.visibility_key`, and the inbox's filters): teachers who see
different replies never share a part.

Parts also expire after a minute: "waiting 3 hours" moves on without a write. A tenant's keys
carry its schema (config.cache_keys), so tenants never share a part.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils.safestring import SafeString

VERSION_KEY = "learning:page-parts:version"
PART_SECONDS = 60

T = TypeVar("T")


def version() -> str:
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        current = cache.get(VERSION_KEY) or uuid.uuid4().hex
    return current


def bump() -> None:
    """The current tenant's shown rows changed: every cached part is stale."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None))


def part(name: str, render: Callable[[], str]) -> SafeString:
    """`render()`'s HTML for this version of the rows (our own template's autoescaped output)."""
    key = f"learning:page-parts:{name}:{version()}"
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html, PART_SECONDS)
    return SafeString(html)


_MISSING = object()


def value(name: str, read: Callable[[], T]) -> T:
    """`read()`'s result for this version of the rows (picklable; None is kept too)."""
    key = f"learning:page-parts:value:{name}:{version()}"
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = read()
        cache.set(key, found, PART_SECONDS)
    return found


# --- What bumps the version (connected in learning.apps) ------------------------------------


def on_row_written(sender, **kwargs) -> None:
    bump()


def on_user_saved(sender, instance, **kwargs) -> None:
    from django_tenants.utils import schema_context

    from tenants.models import Tenant

    schemas = Tenant.objects.filter(memberships__user=instance).values_list(
        "schema_name", flat=True
    )
    for schema in schemas:
        with schema_context(schema):
            bump()


def on_public_row_written(sender, instance, **kwargs) -> None:
    """A membership, an invitation or a guardian's consent (public schema) written: bump in
    its tenant."""
    from django_tenants.utils import schema_context

    from tenants.models import Tenant

    # A role decides who a reply can be assigned to (the compare page's reviewers); members
    # and invitations tick the teacher's onboarding checklist (the dashboard); a consent lets
    # a young student upload (the exercise page's form).
    schemas = Tenant.objects.filter(pk=instance.tenant_id).values_list("schema_name", flat=True)
    for schema in schemas:
        with schema_context(schema):
            bump()


# Written on every practice session and compare view, and shown only through the dashboards'
# figures, which have a version of their own (analytics.services.dashboards_version).
NOT_SHOWN_MODELS = ("ActivityEvent",)


def connect() -> None:
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from tenants.models import GuardianConsent, Invitation, Membership

    for model in (Membership, Invitation, GuardianConsent):
        post_save.connect(on_public_row_written, sender=model, dispatch_uid=f"page-parts-{model}")
        post_delete.connect(
            on_public_row_written, sender=model, dispatch_uid=f"page-parts-d-{model}"
        )
    post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="page-parts-user")
    # Every model of learning, so that a model added later is followed without a line here.
    for model in apps.get_app_config("learning").get_models():
        if model.__name__ in NOT_SHOWN_MODELS:
            continue
        post_save.connect(on_row_written, sender=model, dispatch_uid=f"page-parts-{model}")
        post_delete.connect(on_row_written, sender=model, dispatch_uid=f"page-parts-d-{model}")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(
                on_row_written, sender=through, dispatch_uid=f"page-parts-{through}"
            )
