"""The notification bell: unread count and latest notifications of one user."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from analytics.models import Notification


@dataclass(frozen=True)
class Bell:
    unread: int
    items: list[Notification]


def bell_for(*, user, limit: int = 8) -> Bell:
    shown = Notification.objects.filter(recipient=user, in_app=True)
    items = list(shown.order_by("-created_at", "-pk")[:limit])
    return Bell(unread=shown.filter(read_at__isnull=True).count(), items=items)


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, in_app=True).order_by("-created_at", "-pk")
