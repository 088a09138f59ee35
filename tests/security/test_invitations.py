"""Finding 2 of issue 10: an invitation is bound to the address it was sent to.

The attacker holds a forwarded (or logged) invitation link for someone else's address, has an
account of their own, and tries it on the page and through the API. Nothing may change: no
membership, the invitation still pending for the person it was sent to.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from django.test import Client

from tenants.models import Invitation, Membership, Role, User
from tests.conftest import PASSWORD, client_for


def test_only_the_invited_address_can_accept_an_invitation(
    school_a, school_b, django_capture_on_commit_callbacks
):
    # Given: school A's owner invites alice as an admin; the email is forwarded to mallory,
    # who has an account of her own (a student at school B).
    alice = User.objects.create_user(email="Alice.Admin@example.com", password=PASSWORD)
    mallory = school_b.student
    owner = client_for(school_a.owner, school_a.host)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/manage/invitations/", {"email": "alice.admin@example.com", "role": "admin"})
    (sent,) = [m for m in mail.outbox if "alice.admin@example.com" in m.to]
    path = urlsplit(re.search(r"https?://\S+/invitations/\S+/", sent.body).group(0)).path
    token = path.strip("/").split("/")[-1]

    # When: mallory opens the link logged in as herself, and posts it on the page and the API.
    page_client = client_for(mallory, school_a.host)
    page = page_client.get(path)
    posted = page_client.post(path)
    api = Client(HTTP_HOST=school_a.host)
    api.force_login(mallory, backend="django.contrib.auth.backends.ModelBackend")
    api_response = api.post(
        f"/api/v1/invitations/{token}/accept/", content_type="application/json"
    )

    # Then: nothing changed, and a clear refusal.
    assert not Membership.objects.filter(user=mallory, tenant=school_a.tenant).exists()
    assert page.status_code == 403
    assert "This invitation is for" in page.content.decode()
    assert "Accept and join" not in page.content.decode()
    assert posted.status_code == 403
    assert "alice.admin@example.com" in posted.content.decode()
    assert api_response.status_code == 403
    assert api_response.json()["code"] == "invitation_email_mismatch"
    assert "message" in api_response.json()
    assert not Membership.objects.filter(user=mallory, tenant=school_a.tenant).exists()
    invitation = Invitation.objects.get(token=token)
    assert invitation.accepted_at is None and invitation.accepted_by is None

    # Signing up from the link creates only the invited address, whatever else is posted.
    anonymous = Client(HTTP_HOST=school_a.host)
    anonymous.post(
        path, {"full_name": "Mallory", "password": PASSWORD, "email": "mallory2@example.com"}
    )
    assert not User.objects.filter(email="mallory2@example.com").exists()
    assert not Membership.objects.filter(tenant=school_a.tenant, role=Role.ADMIN).exclude(
        user__email__iexact="alice.admin@example.com"
    ).exists()

    # And the invitee herself (any case of her address) still accepts it.
    accepted = client_for(alice, school_a.host).post(path)
    assert accepted.status_code == 302
    assert Membership.objects.get(user=alice, tenant=school_a.tenant).role == Role.ADMIN
