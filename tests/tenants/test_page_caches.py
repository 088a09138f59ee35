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


def test_the_api_follows_a_removed_member_and_a_changed_role_on_the_very_next_call(school_a):
    # The API takes the membership the middleware read with the page's chrome.
    client = client_for(school_a.student, school_a.host)
    assert client.get("/api/v1/tenant/").json()["role"] == "student"

    membership = member(school_a.student, school_a.tenant)
    services.membership_change_role(membership=membership, role=Role.TEACHER, actor=school_a.owner)
    assert client.get("/api/v1/tenant/").json()["role"] == "teacher"

    services.membership_remove(membership=membership, actor=school_a.owner)
    assert client.get("/api/v1/tenant/").status_code == 403


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


# --- The signed-in user's row (tenants.chrome.user_for_session) ----------------------------


def _warm(client, path="/dashboard/"):
    # Twice: the first request stores the user's copy, the second is served from it.
    for _ in range(2):
        assert client.get(path).status_code == 200


def test_a_page_reads_the_signed_in_user_from_the_cache(school_a):
    from tests.support.sql_count import count_statements

    client = client_for(school_a.student, school_a.host)
    _warm(client)

    with count_statements() as statements:
        assert client.get("/dashboard/").status_code == 200

    assert not [s for s in statements if '"tenants_user"' in s.split(" WHERE ")[0]], statements


def test_a_new_password_signs_other_sessions_out_on_the_very_next_request(school_a):
    from tenants.models import User

    client = client_for(school_a.student, school_a.host)
    _warm(client)

    user = User.objects.get(pk=school_a.student.pk)
    user.set_password("a-new-password-for-the-test")
    user.save()

    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_deactivated_user_is_signed_out_on_the_very_next_request(school_a):
    from tenants.models import User

    client = client_for(school_a.student, school_a.host)
    _warm(client)

    user = User.objects.get(pk=school_a.student.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert client.get("/dashboard/").status_code == 302


def test_a_changed_email_shows_on_the_very_next_request(school_a):
    from tenants.models import User

    client = client_for(school_a.student, school_a.host)
    _warm(client)

    user = User.objects.get(pk=school_a.student.pk)
    user.email = "renamed-student@example.com"
    user.save(update_fields=["email"])

    assert "renamed-student@example.com" in client.get("/dashboard/").content.decode()


def test_a_stale_copy_whose_password_differs_is_never_used(school_a):
    """A copy stored before a password change that a racing request wrote back: the session's
    hash does not match it, so Django's own lookup decides (and signs the session out)."""
    from tenants import chrome
    from tenants.models import User

    client = client_for(school_a.student, school_a.host)
    _warm(client)
    stale = User.objects.get(pk=school_a.student.pk)
    user = User.objects.get(pk=school_a.student.pk)
    user.set_password("another-new-password")
    user.save()
    cache.set(chrome._user_key(user.pk), stale, chrome.TTL_SECONDS)  # the race's write-back
    stale.set_password("yet-another-password")  # a copy whose hash matches no session
    cache.set(chrome._user_key(user.pk), stale, chrome.TTL_SECONDS)

    assert client.get("/dashboard/").status_code == 302


# --- Page bodies: a write shows on the very next request ----------------------------------


def test_a_new_comment_shows_on_the_very_next_request(school_a):
    """The compare page loads its comments through the API; the student's replies page counts
    them and marks the reply as having new feedback."""
    from django_tenants.utils import tenant_context

    from learning.models import Reply
    from learning.replies import services as reply_services
    from tests.support import scale

    scale.seed(tenant=school_a.tenant, teacher=school_a.teacher, students=3, replies=3)
    with tenant_context(school_a.tenant):
        reply = Reply.objects.select_related("student").order_by("pk").first()
        Reply.objects.filter(student=reply.student).exclude(pk=reply.pk).delete()
    student = client_for(reply.student, school_a.host)
    teacher = client_for(school_a.teacher, school_a.host)
    comments = f"/api/v1/replies/{reply.public_id}/comments/"
    _warm(student, "/replies/")
    _warm(teacher, f"/replies/{reply.public_id}/")
    before = _comment_count(student.get("/replies/").content.decode())
    assert "Watch the left hand here" not in teacher.get(comments).content.decode()

    with tenant_context(school_a.tenant):
        reply_services.comment_create(
            member=member(school_a.teacher, school_a.tenant),
            reply=reply,
            body="Watch the left hand here",
            at_ms=1500,
        )

    after = student.get("/replies/").content.decode()
    assert "New feedback" in after
    assert _comment_count(after) == before + 1
    assert "Watch the left hand here" in teacher.get(comments).content.decode()


def _comment_count(html: str) -> int:
    import re

    found = re.search(r"(\d+) comments?<", html) or re.search(r"(\d+) comments?\b", html)
    return int(found.group(1)) if found else 0


def test_the_layout_links_follow_the_host(school_a, public_host):
    student = client_for(school_a.student, school_a.host).get("/dashboard/").content.decode()
    teacher = client_for(school_a.teacher, school_a.host).get("/dashboard/").content.decode()
    public = Client(HTTP_HOST=public_host).get("/").content.decode()

    assert 'href="/exercises/"' in student or "My exercises" in student
    assert 'aria-current="page">Dashboard' in teacher
    assert "Inbox</a>" in teacher and "Inbox</a>" not in student
    assert 'href="/accounts/login/">Log in' in public
    assert 'href="/api/docs/">API docs' in public
