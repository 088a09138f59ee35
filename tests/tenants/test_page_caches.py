"""The caches in front of every page (tenants.chrome) never outlive what they copy: a
suspension, a removed member, a changed role or a new notification shows on the very next
request. (Across processes, with Redis: tests/platform/test_page_caches_services.py.)"""

from __future__ import annotations

from django.core.cache import cache
from django.test import Client

from tenants import services
from tenants.models import Domain, Membership, Role
from tests.conftest import client_for, member


def test_a_suspended_tenant_is_refused_on_the_very_next_request(school_a):
    client = client_for(school_a.student, school_a.host)
    assert client.get("/dashboard/").status_code == 200  # the tenant is now cached

    services.tenant_suspend(tenant=school_a.tenant, actor=school_a.owner, reason="unpaid")

    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "suspended" in response.content.decode()
    services.tenant_reactivate(tenant=school_a.tenant, actor=school_a.owner)
    assert client.get("/dashboard/").status_code == 200


def test_a_removed_member_is_refused_on_the_very_next_request(school_a):
    client = client_for(school_a.student, school_a.host)
    assert client.get("/dashboard/").status_code == 200

    services.membership_remove(
        membership=member(school_a.student, school_a.tenant), actor=school_a.owner
    )

    assert client.get("/dashboard/").status_code == 403


def test_a_changed_role_shows_on_the_very_next_request(school_a):
    client = client_for(school_a.student, school_a.host)
    assert client.get("/teach/exercises/").status_code == 403

    membership = member(school_a.student, school_a.tenant)
    services.membership_change_role(membership=membership, role=Role.TEACHER, actor=school_a.owner)

    assert client.get("/teach/exercises/").status_code == 200


def test_a_removed_domain_stops_routing_and_a_new_one_starts(school_a):
    Client(HTTP_HOST=school_a.host).get("/accounts/login/")
    new_host = f"renamed-a.{school_a.host.split('.', 1)[1]}"
    assert Client(HTTP_HOST=new_host).get("/accounts/login/").status_code == 404  # cached: none

    domain = Domain.objects.get(domain=school_a.host)
    domain.domain = new_host
    domain.save()

    assert Client(HTTP_HOST=school_a.host).get("/accounts/login/").status_code == 404
    assert Client(HTTP_HOST=new_host).get("/accounts/login/").status_code == 200


def test_a_new_notification_shows_in_the_bell_on_the_next_page(school_a):
    from django_tenants.utils import tenant_context

    from analytics import notifications
    from analytics.models import Notification

    client = client_for(school_a.student, school_a.host)
    before = client.get("/dashboard/").content.decode()
    assert "Scales are due" not in before

    with tenant_context(school_a.tenant):
        notifications.notify(
            recipient_ids=[school_a.student.pk],
            kind=Notification.Kind.DUE_REMINDER,
            title="Scales are due",
            dedupe_key="page-caches-test",
        )
    assert "Scales are due" in client.get("/dashboard/").content.decode()

    with tenant_context(school_a.tenant):
        notifications.mark_read(user=school_a.student)
        assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_a_flushed_cache_costs_queries_not_the_login(school_a):
    client = client_for(school_a.teacher, school_a.host)
    assert client.get("/dashboard/").status_code == 200

    cache.clear()  # Redis restarted or flushed

    assert client.get("/dashboard/").status_code == 200  # sessions live in the database too
    assert Membership.objects.filter(user=school_a.teacher, tenant=school_a.tenant).exists()
