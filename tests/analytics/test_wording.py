"""Small words that were wrong: how long ago ("just now", never "0 minutes ago"), a studio
called a studio, a saved notification setting confirmed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from analytics.models import Notification
from tenants.models import Tenant
from tenants.templatetags.time_words import ago
from tests.conftest import client_for


def test_ago_says_just_now_under_a_minute_and_minutes_after():
    now = timezone.now()

    assert ago(now - timedelta(seconds=5), now) == "just now"
    assert ago(now - timedelta(seconds=59), now) == "just now"
    assert ago(now - timedelta(minutes=5), now) == "5\xa0minutes ago"
    assert ago(None, now) == ""


def test_a_fresh_notification_was_sent_just_now(school_a):
    with tenant_context(school_a.tenant):
        Notification.objects.create(
            recipient=school_a.student,
            kind="exercise_assigned",
            title="New exercise: Scales",
            body="Scales",
            url="/",
            in_app=True,
            dedupe_key="wording-just-now",
        )

    page = client_for(school_a.student, school_a.host).get("/notifications/").content.decode()

    assert "just now" in page
    assert "0\xa0minutes" not in page and "0 minutes" not in page


def test_a_studio_overview_is_not_called_a_school_overview(school_a):
    owner = client_for(school_a.owner, school_a.host)
    assert "School overview" in owner.get("/dashboard/school/").content.decode()

    tenant = Tenant.objects.get(pk=school_a.tenant.pk)
    tenant.kind = Tenant.Kind.STUDIO
    tenant.save()  # drops the cached host → tenant lookup, as every write through the model does

    page = owner.get("/dashboard/school/").content.decode()
    assert "Studio overview" in page and "School overview" not in page
    assert "Studio overview" in owner.get("/dashboard/").content.decode()


def test_saving_notification_settings_is_confirmed(school_a):
    student = client_for(school_a.student, school_a.host)

    response = student.post("/notifications/preferences/", {"exercise_assigned:email": "on"})

    assert response.status_code == 302
    assert (
        "Your notification settings are saved."
        in student.get(response["Location"]).content.decode()
    )
