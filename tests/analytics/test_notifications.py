"""Notifications: each email kind once per event, in HTML and text, with an unsubscribe link
that works without logging in; preferences per kind and channel; the bell."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from analytics import digests, handlers, notifications
from analytics.models import Notification, NotificationPreference
from learning.models import ActivityEvent
from tests.conftest import client_for

pytestmark = pytest.mark.usefixtures("eager_tasks")


def _emails_to(user, kind_title: str = ""):
    return [m for m in mail.outbox if m.to == [user.email] and kind_title in m.subject]


def _unsubscribe_url(message) -> str:
    return re.search(r"Stop these emails: (\S+)", message.body).group(1)


def test_each_kind_is_emailed_once_per_event_in_html_and_text(
    loop, django_capture_on_commit_callbacks
):
    school = loop.school
    exercise = loop.publish(school.teacher, title="Arpeggios")
    reply = loop.reply(school.student, exercise)
    loop.review(school.teacher, reply)

    assigned = _emails_to(school.student, "New exercise: Arpeggios")
    assert len(assigned) == 1 and len(_emails_to(school.other_student, "New exercise")) == 1
    to_review = _emails_to(school.teacher, "replied to Arpeggios")
    feedback = _emails_to(school.student, "Feedback on Arpeggios")
    assert len(to_review) == 1 and len(feedback) == 1
    for message in (assigned[0], to_review[0], feedback[0]):
        html = message.alternatives[0][0]
        assert message.alternatives[0][1] == "text/html"
        assert "Unsubscribe" in html and "/api/v1/notifications/unsubscribe/" in html
        assert "/api/v1/notifications/unsubscribe/" in message.body
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/replies/{reply.public_id}/" in to_review[0].body

    # The same event handled again (a retry, a second worker) notifies nobody twice.
    before = len(mail.outbox)
    event = ActivityEvent.objects.get(kind="feedback_given")
    with django_capture_on_commit_callbacks(execute=True):
        handlers.on_activity(event)
    assert len(mail.outbox) == before
    assert Notification.objects.filter(kind="feedback_received").count() == 1


def test_comments_reach_the_bell_but_not_the_inbox(loop):
    school = loop.school
    reply = loop.reply(school.student, loop.publish(school.teacher))
    mail.outbox.clear()
    comment = loop.comment(school.teacher, reply, body="Relax the wrist")
    assert mail.outbox == []
    note = Notification.objects.get(kind="new_comment")
    assert note.recipient_id == school.student.pk and note.in_app and note.body == "Relax the wrist"
    # The bell opens the compare page at the comment's moment.
    assert note.url == f"/replies/{reply.public_id}/?comment={comment.public_id}"


def test_due_date_reminder_once_a_day_before(loop, django_capture_on_commit_callbacks):
    school = loop.school
    soon = loop.publish(school.teacher, title="Etude", due_at=timezone.now() + timedelta(hours=20))
    loop.publish(school.teacher, title="Later", due_at=timezone.now() + timedelta(days=3))
    loop.reply(school.other_student, soon)  # done already: no reminder
    mail.outbox.clear()

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            digests.due_reminders_send()

    reminders = [m for m in mail.outbox if m.subject.startswith("Due soon")]
    assert [m.to for m in reminders] == [[school.student.email]]
    assert "Due soon: Etude" in reminders[0].subject and "Record your attempt" in (
        reminders[0].alternatives[0][0]
    )


def test_weekly_digest_once_per_member_and_week(loop, django_capture_on_commit_callbacks):
    school = loop.school
    loop.reply(school.student, loop.publish(school.teacher))
    mail.outbox.clear()
    next_week = timezone.now() + timedelta(days=7)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            digests.weekly_digest_send(now=next_week)

    digests_sent = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Your week"))
    members = sorted(u.email for u in (school.owner, school.teacher, school.student,
                                       school.other_student))
    assert digests_sent == members
    student = next(m for m in mail.outbox if m.to == [school.student.email])
    assert "Attempts recorded: 1" in student.body and "<li>Attempts recorded: 1</li>" in (
        student.alternatives[0][0]
    )


def test_the_unsubscribe_link_works_without_logging_in(loop):
    school = loop.school
    loop.publish(school.teacher, title="First")
    url = _unsubscribe_url(_emails_to(school.student, "New exercise: First")[0])
    path = url.split(school.host, 1)[1]
    anonymous = Client(HTTP_HOST=school.host)

    page = anonymous.get(path)
    assert page.status_code == 200 and "New exercise assigned" in page.content.decode()
    assert not NotificationPreference.objects.filter(user=school.student).exists()
    done = anonymous.post(path)  # also what a mail client's one-click unsubscribe sends
    assert done.status_code == 200 and "data-unsubscribed" in done.content.decode()

    mail.outbox.clear()
    loop.publish(school.teacher, title="Second")
    assert _emails_to(school.student) == []
    assert len(_emails_to(school.other_student, "New exercise: Second")) == 1
    # Still in the bell: only the email channel was turned off.
    assert Notification.objects.get(recipient=school.student, title="New exercise: Second").in_app
    # A token is bound to its tenant and cannot be forged.
    assert anonymous.get(path[:-3] + "xx/").status_code == 404
    other = Client(HTTP_HOST=loop.school.host.replace("school-a", "school-b"))
    assert other.get(path).status_code == 404


def test_preferences_are_honoured_per_kind_and_channel(loop):
    school = loop.school
    page = client_for(school.student, school.host)
    response = page.post(
        "/notifications/preferences/",
        {"exercise_assigned:email": "on", "feedback_received:in_app": "on",
         "feedback_received:email": "on"},
    )
    assert response.status_code == 302
    off = set(NotificationPreference.objects.filter(user=school.student, enabled=False)
              .values_list("kind", "channel"))
    assert ("exercise_assigned", "in_app") in off and ("new_comment", "in_app") in off
    mail.outbox.clear()

    loop.publish(school.teacher, title="Quiet")

    note = Notification.objects.get(recipient=school.student, kind="exercise_assigned")
    assert (note.in_app, note.email_wanted) == (False, True)
    assert len(_emails_to(school.student, "New exercise: Quiet")) == 1
    listed = page.get("/notifications/")
    assert listed.status_code == 200 and "<h1>Notifications</h1>" in listed.content.decode()
    assert "New exercise: Quiet" not in listed.content.decode()


def test_the_bell_marks_read_one_or_all(loop):
    school = loop.school
    loop.publish(school.teacher, title="One")
    loop.publish(school.teacher, title="Two")
    client = client_for(school.student, school.host)
    assert notifications.unread_counts(user_ids=[school.student.pk]) == {school.student.pk: 2}
    first = Notification.objects.filter(recipient=school.student).order_by("pk").first()

    response = client.post(f"/notifications/{first.public_id}/read/")
    assert response.status_code == 302 and response["Location"] == first.url
    assert notifications.unread_counts(user_ids=[school.student.pk]) == {school.student.pk: 1}
    client.post("/notifications/read-all/", {"next": "/dashboard/"})
    assert notifications.unread_counts(user_ids=[school.student.pk]) == {}
    # Someone else's notification cannot be marked through this page.
    other = client_for(school.other_student, school.host)
    assert other.post(f"/notifications/{first.public_id}/read/").status_code == 404
    api = other.get("/api/v1/notifications/").json()
    assert api["unread"] == 2 and len(api["items"]) == 2
