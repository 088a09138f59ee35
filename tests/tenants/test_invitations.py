"""Getting people in and out: email invitations, the join code, and removal."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.core import mail
from django.test import Client
from django.utils import timezone

from tenants import services
from tenants.models import Invitation, Membership, Role, Tenant, User
from tests.conftest import PASSWORD, client_for
from tests.support.handover import follow_handover


def invite(school, email: str, role: str, django_capture_on_commit_callbacks) -> str:
    """Invite through the admin portal; return the accept link from the email."""
    client = client_for(school.owner, school.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/manage/invitations/", {"email": email, "role": role})
    assert response.status_code == 302
    sent = [m for m in mail.outbox if email in m.to]
    assert len(sent) == 1
    return re.search(r"https?://\S+/invitations/\S+/", sent[0].body).group(0)


def test_an_invited_new_user_creates_an_account_and_joins_with_the_role(
    school_a, django_capture_on_commit_callbacks
):
    email = "new.teacher@example.com"
    link = invite(school_a, email, "teacher", django_capture_on_commit_callbacks)
    url = urlsplit(link)
    assert url.hostname == school_a.host
    pending = client_for(school_a.owner, school_a.host).get("/manage/members/").content.decode()
    assert "new.teacher@example.com" in pending  # listed as pending

    browser = Client(HTTP_HOST=url.hostname)
    page = browser.get(url.path)
    assert page.status_code == 200
    content = page.content.decode()
    assert "new.teacher@example.com" in content
    assert "as <strong>teacher</strong>" in content
    assert "Create your account" in content

    response = browser.post(url.path, {"full_name": "Nia Teacher", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(email="new.teacher@example.com")
    assert user.full_name == "Nia Teacher"
    assert Membership.objects.get(user=user, tenant=school_a.tenant).role == Role.TEACHER
    home = browser.get("/")
    assert home.status_code == 200
    assert home.context["membership"].user == user

    # The link is single use: a second visit explains it, for anyone.
    again = Client(HTTP_HOST=url.hostname).get(url.path)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_an_invitation_for_an_existing_account_asks_to_log_in_then_accepts(
    school_a, school_b, django_capture_on_commit_callbacks
):
    email = school_b.teacher.email
    link = invite(school_a, email, "student", django_capture_on_commit_callbacks)
    path = urlsplit(link).path

    anonymous = Client(HTTP_HOST=school_a.host).get(path).content.decode()
    assert "Log in to accept" in anonymous
    assert f"/accounts/login/?next={path}" in anonymous

    browser = client_for(school_b.teacher, school_a.host)
    assert "Accept and join" in browser.get(path).content.decode()
    assert browser.post(path).status_code == 302
    assert Membership.objects.get(user=school_b.teacher, tenant=school_a.tenant).role == "student"


def test_an_expired_invitation_is_explained(school_a):
    invitation = services.invitation_create(
        tenant=school_a.tenant, email="late@example.com", role="student", actor=school_a.owner
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    page = Client(HTTP_HOST=school_a.host).get(f"/invitations/{invitation.token}/")

    assert page.status_code == 410
    assert "This invitation has expired" in page.content.decode()
    posted = Client(HTTP_HOST=school_a.host).post(
        f"/invitations/{invitation.token}/", {"full_name": "Late", "password": PASSWORD}
    )
    assert posted.status_code == 410
    assert not User.objects.filter(email="late@example.com").exists()


def test_a_withdrawn_invitation_is_explained(school_a):
    invitation = services.invitation_create(
        tenant=school_a.tenant, email="gone@example.com", role="student", actor=school_a.owner
    )
    owner = client_for(school_a.owner, school_a.host)
    assert owner.post(f"/manage/invitations/{invitation.public_id}/revoke/").status_code == 302

    page = Client(HTTP_HOST=school_a.host).get(f"/invitations/{invitation.token}/")
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()
    members_page = owner.get("/manage/members/")
    assert members_page.status_code == 200
    assert "was withdrawn" in members_page.content.decode()
    assert invitation not in members_page.context["invitations"]


def test_an_invitation_only_works_on_its_own_school(school_a, school_b):
    invitation = services.invitation_create(
        tenant=school_a.tenant, email="cross@example.com", role="admin", actor=school_a.owner
    )
    page = Client(HTTP_HOST=school_b.host).get(f"/invitations/{invitation.token}/")
    assert page.status_code == 410
    assert "not valid" in page.content.decode()


def test_inviting_an_existing_member_is_refused_with_a_message(school_a):
    client = client_for(school_a.owner, school_a.host)
    client.post("/manage/invitations/", {"email": school_a.student.email, "role": "teacher"})
    assert "is already a member" in client.get("/manage/members/").content.decode()
    assert not Invitation.objects.filter(email=school_a.student.email).exists()


def test_a_new_student_joins_with_the_code_link(
    school_a, public_host, django_capture_on_commit_callbacks
):
    code = school_a.tenant.join_code
    browser = Client(HTTP_HOST=school_a.host)
    page = browser.get(f"/join/{code}/")
    assert page.status_code == 200
    assert "as a <strong>student</strong>" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"/join/{code}/", {"code": code, "full_name": "Sam", "email": "sam@example.com"}
        )

    # Like every sign-up: "check your email", and the emailed link finishes it.
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not User.objects.filter(email="sam@example.com").exists()
    (sent,) = [m for m in mail.outbox if "sam@example.com" in m.to]
    link = urlsplit(re.search(r"https?://\S+/signup/finish/\S+/", sent.body).group(0))
    public = Client(HTTP_HOST=public_host)
    assert "Join School A" in public.get(link.path).content.decode()
    finished = public.post(link.path, {"password": PASSWORD})
    assert finished.status_code == 302
    user = User.objects.get(email="sam@example.com")
    assert user.full_name == "Sam"
    assert Membership.objects.get(user=user, tenant=school_a.tenant).role == Role.STUDENT
    tenant_browser, landed = follow_handover(finished["Location"], public=public)
    assert landed.status_code == 302
    assert tenant_browser.get("/").status_code == 200


def test_a_logged_in_user_joins_by_typing_the_code(school_a, school_b):
    browser = client_for(school_b.student, school_a.host)
    assert browser.get("/").status_code == 403  # not a member yet
    response = browser.post("/join/", {"code": school_a.tenant.join_code.lower()})
    assert response.status_code == 302
    assert Membership.objects.get(user=school_b.student, tenant=school_a.tenant).role == "student"
    assert browser.get("/").status_code == 200


def test_an_old_code_is_refused_after_rotation(school_a):
    old = school_a.tenant.join_code
    owner = client_for(school_a.owner, school_a.host)
    assert owner.post("/manage/join-code/rotate/").status_code == 302
    new = Tenant.objects.get(pk=school_a.tenant.pk).join_code
    assert new != old
    assert new in owner.get("/manage/members/").content.decode()

    page = Client(HTTP_HOST=school_a.host).get(f"/join/{old}/")
    assert page.status_code == 410
    assert "That join code is not valid" in page.content.decode()
    response = Client(HTTP_HOST=school_a.host).post(
        f"/join/{old}/",
        {"code": old, "full_name": "Old", "email": "old@example.com"},
    )
    assert response.status_code == 200
    assert "That join code is not valid" in response.content.decode()
    assert not User.objects.filter(email="old@example.com").exists()


def test_a_removed_member_loses_access_at_once(school_a):
    member = Membership.objects.get(user=school_a.teacher, tenant=school_a.tenant)
    teacher = client_for(school_a.teacher, school_a.host)
    assert teacher.get("/").status_code == 200

    response = client_for(school_a.owner, school_a.host).post(
        f"/manage/members/{member.public_id}/remove/"
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert User.objects.filter(pk=school_a.teacher.pk).exists()  # the account stays
    assert teacher.get("/").status_code == 403


def test_the_last_owner_cannot_be_removed(school_a):
    owner = Membership.objects.get(user=school_a.owner, tenant=school_a.tenant)
    client = client_for(school_a.owner, school_a.host)
    client.post(f"/manage/members/{owner.public_id}/remove/")
    assert Membership.objects.filter(pk=owner.pk).exists()
    assert "needs at least one owner" in client.get("/manage/members/").content.decode()
