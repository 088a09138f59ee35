"""The activity outbox of the core loop.

Services call `emit()` inside their transaction: the event is stored with the change it
describes (both commit or neither), and after commit the handlers named in the
PRACTIKA_ACTIVITY_HANDLERS setting hear of it. The handlers are named by a setting so that
learning imports no app that consumes its events (analytics builds rollups, notifications
and product analytics from them); everything they derive can be rebuilt from the rows.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from learning.models import ActivityEvent
from tenants.models import Membership

logger = logging.getLogger(__name__)


def _handlers() -> list:
    return [import_string(path) for path in getattr(settings, "PRACTIKA_ACTIVITY_HANDLERS", [])]


def _dispatch(event_id: int) -> None:
    event = ActivityEvent.objects.select_related("actor").filter(pk=event_id).first()
    if event is None:
        return
    for handler in _handlers():
        # A failing consumer must not fail the request that already committed; the periodic
        # rebuild repairs what it missed.
        try:
            handler(event)
        except Exception:
            logger.exception("activity handler failed", extra={"kind": event.kind})


def emit(
    *, kind: str, member: Membership, occurred_at: datetime | None = None, **data
) -> ActivityEvent:
    """Record that `member` did `kind`; handlers run after the surrounding transaction commits.

    The event keeps the member's user (`ActivityEvent.actor`) and role.
    """
    data.setdefault("role", member.role)
    event = ActivityEvent.objects.create(
        kind=kind,
        actor=member.user,
        data={
            name: value if value is None or isinstance(value, int | float) else str(value)
            for name, value in data.items()
        },
        occurred_at=occurred_at or timezone.now(),
    )
    transaction.on_commit(lambda: _dispatch(event.pk))
    return event
