"""The notification service: one `notify()` and three channels.

- in the app: the Notification row itself, shown in the bell (templates/analytics/_bell.html);
- email: sent by a Celery task after commit, HTML and plain text, with an unsubscribe link
  that works without logging in (a signed token naming the member, the kind and the tenant);
- live: the bell's unread count pushed to the member's open pages (analytics.live).

The Notification row is the delivery record: (recipient, kind, dedupe_key) is unique, so an
event handled twice notifies nobody twice, and an email is sent only while `emailed_at` is
empty (the task locks the row). Members choose per kind and channel (NotificationPreference);
no choice means on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from analytics import chrome, live
from analytics.models import Notification, NotificationPreference
from learning.models import ActivityEvent
from tenants import hosts
from tenants.models import User

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Channel = NotificationPreference.Channel

# Where each kind can be delivered: comments are chatty (the bell only), the digest is an email.
CHANNELS: dict[str, tuple[str, ...]] = {
    Kind.EXERCISE_ASSIGNED: (Channel.IN_APP, Channel.EMAIL),
    Kind.REPLY_TO_REVIEW: (Channel.IN_APP, Channel.EMAIL),
    Kind.FEEDBACK_RECEIVED: (Channel.IN_APP, Channel.EMAIL),
    Kind.NEW_COMMENT: (Channel.IN_APP,),
    Kind.DUE_REMINDER: (Channel.IN_APP, Channel.EMAIL),
    Kind.WEEKLY_DIGEST: (Channel.EMAIL,),
}
UNSUBSCRIBE_SALT = "practika.unsubscribe"


class UnsubscribeInvalid(Exception):
    pass


@transaction.atomic
def notify(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    title: str,
    dedupe_key: str,
    body: str = "",
    url: str = "",
    event: ActivityEvent | None = None,
) -> list[Notification]:
    """Tell these members about one thing, once, on the channels each of them chose."""
    ids = set(recipient_ids)
    channels = CHANNELS[kind]
    if not ids:
        return []
    off = set(
        NotificationPreference.objects.filter(user_id__in=ids, kind=kind, enabled=False)
        .values_list("user_id", "channel")
    )
    rows = []
    for user_id in sorted(ids):
        in_app = Channel.IN_APP in channels and (user_id, Channel.IN_APP) not in off
        email = Channel.EMAIL in channels and (user_id, Channel.EMAIL) not in off
        if in_app or email:
            rows.append(
                Notification(
                    recipient_id=user_id, kind=kind, title=title[:200], body=body, url=url,
                    event=event, dedupe_key=dedupe_key[:80], in_app=in_app, email_wanted=email,
                )
            )
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    chrome.forget(user_ids=[r.recipient_id for r in rows if r.in_app])
    saved = list(
        Notification.objects.filter(
            kind=kind, dedupe_key=dedupe_key[:80], recipient_id__in=[r.recipient_id for r in rows]
        )
    )
    to_email = [n.pk for n in saved if n.email_wanted and n.emailed_at is None]
    if to_email:
        from analytics import tasks

        transaction.on_commit(lambda: tasks.notification_emails_send.delay(to_email))
    in_app = [n for n in saved if n.in_app and n.read_at is None]
    if in_app:
        transaction.on_commit(lambda: _push_unread(in_app))
    return saved


def _push_unread(notifications: list[Notification]) -> None:
    counts = unread_counts(user_ids=[n.recipient_id for n in notifications])
    for notification in notifications:
        live.push(
            user_ids=[notification.recipient_id],
            payload={
                "type": "notification",
                "unread": counts.get(notification.recipient_id, 0),
                "notification": as_payload(notification),
            },
        )


def as_payload(notification: Notification) -> dict:
    return {
        "id": str(notification.public_id),
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat() if notification.created_at else None,
    }


# --- In the app ---------------------------------------------------------------------------


def unread_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    return dict(
        Notification.objects.filter(
            recipient_id__in=set(user_ids), in_app=True, read_at__isnull=True
        )
        .values_list("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )


def mark_read(*, user: User, public_id=None) -> int:
    """Mark one of the member's notifications read (or all of them without an id)."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if public_id is not None:
        unread = unread.filter(public_id=public_id)
    changed = unread.update(read_at=timezone.now())
    chrome.forget(user_ids=[user.pk])
    if changed:
        live.push(
            user_ids=[user.pk],
            payload={"type": "notification", "unread": unread_counts(user_ids=[user.pk]).get(
                user.pk, 0
            )},
        )
    return changed


# --- Preferences --------------------------------------------------------------------------


@transaction.atomic
def preference_set(*, user: User, kind: str, channel: str, enabled: bool) -> None:
    """Turn one kind of notification on or off on one channel for a member."""
    if channel not in CHANNELS.get(kind, ()):
        raise ValueError(f"{kind} is not delivered by {channel}")
    NotificationPreference.objects.update_or_create(
        user=user, kind=kind, channel=channel, defaults={"enabled": enabled}
    )


def preferences_for(*, user: User) -> list[dict]:
    """Every kind with its channels and whether each is on, for the settings page."""
    off = set(
        NotificationPreference.objects.filter(user=user, enabled=False)
        .values_list("kind", "channel")
    )
    return [
        {
            "kind": kind,
            "label": Kind(kind).label,
            "channels": [
                {"channel": channel, "label": Channel(channel).label,
                 "enabled": (kind, channel) not in off}
                for channel in channels
            ],
        }
        for kind, channels in CHANNELS.items()
    ]


def unsubscribe_token(*, user: User, kind: str) -> str:
    tenant = connection.tenant
    return signing.dumps(
        {"u": str(user.public_id), "k": kind, "t": tenant.public_id.hex}, salt=UNSUBSCRIBE_SALT,
        compress=True,
    )


def unsubscribe_check(*, token: str) -> tuple[User, str]:
    """The member and kind behind an unsubscribe token of the current tenant."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as error:
        raise UnsubscribeInvalid("This unsubscribe link is not valid.") from error
    if data.get("t") != connection.tenant.public_id.hex or data.get("k") not in CHANNELS:
        raise UnsubscribeInvalid("This unsubscribe link is not valid here.")
    user = User.objects.filter(public_id=data.get("u")).first()
    if user is None:
        raise UnsubscribeInvalid("This unsubscribe link is not valid any more.")
    return user, data["k"]


def unsubscribe(*, token: str) -> tuple[User, str]:
    """Stop the emails of one kind for the member named by the token (no login needed)."""
    user, kind = unsubscribe_check(token=token)
    preference_set(user=user, kind=kind, channel=Channel.EMAIL, enabled=False)
    return user, kind


# --- Email --------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return hosts.tenant_url(connection.tenant.slug, path or "/")


def email_message(notification: Notification) -> EmailMultiAlternatives:
    """The email for one notification: its kind's text and HTML templates."""
    user = notification.recipient
    token = unsubscribe_token(user=user, kind=notification.kind)
    unsubscribe_url = _absolute(reverse("analytics:unsubscribe", args=[token]))
    context = {
        "notification": notification,
        "user": user,
        "tenant": connection.tenant,
        "url": _absolute(notification.url),
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": _absolute(reverse("analytics:preferences")),
        "lines": [line for line in notification.body.splitlines() if line.strip()],
    }
    template = f"analytics/email/{notification.kind}"
    message = EmailMultiAlternatives(
        subject=f"{notification.title} · {connection.tenant.name}",
        body=render_to_string(f"{template}.txt", context),
        to=[user.email],
        headers={
            # One-click unsubscribe (RFC 8058): mail clients POST to the link.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def emails_send(*, notification_ids: Iterable[int]) -> int:
    """Send the emails of these notifications that are still unsent; returns how many."""
    sent = 0
    for pk in sorted(set(notification_ids)):
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(pk=pk, email_wanted=True, emailed_at__isnull=True)
                .first()
            )
            if notification is None:
                continue  # sent already, or another worker holds it
            if NotificationPreference.objects.filter(
                user_id=notification.recipient_id, kind=notification.kind,
                channel=Channel.EMAIL, enabled=False,
            ).exists():  # unsubscribed since it was queued
                notification.email_wanted = False
                notification.save(update_fields=["email_wanted"])
                continue
            email_message(notification).send()
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at"])
            sent += 1
    return sent
