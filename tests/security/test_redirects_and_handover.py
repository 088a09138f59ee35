"""Finding 7 of issue 10: where a login may send people, and whose login a handover carries.

`next=` after logging in may lead only to the same host or the public site, never to another
tenant's host (a phishing aid). A handover link made by someone else (the attacker logs in,
keeps the redirect from `/go/<slug>/`, and sends it) must not log the victim silently into the
attacker's account (login CSRF), and neither may the link the attacker gets one hop later.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from django.test import Client

from tests.conftest import PASSWORD, client_for
from tests.support.handover import follow_handover

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def _log_in(client: Client, email: str, next_url: str):
    return client.post(
        f"/accounts/login/?next={quote(next_url, safe='')}",
        {"login": email, "password": PASSWORD, "next": next_url},
    )


def test_next_never_leads_to_another_tenants_host(schools, public_host):
    other_tenant = f"http://{schools.b.host}/accounts/login/"
    # On school A's host, and on the public site.
    for host in (schools.a.host, public_host):
        response = _log_in(Client(HTTP_HOST=host), schools.a.teacher.email, other_tenant)
        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert target.hostname in (None, host), (host, response["Location"])
        assert schools.b.host not in response["Location"]
    # Same host and the public site stay allowed.
    same = _log_in(Client(HTTP_HOST=schools.a.host), schools.a.teacher.email, "/dashboard/")
    assert same["Location"] == "/dashboard/"
    public_page = f"http://{public_host}/signup/"
    to_public = _log_in(Client(HTTP_HOST=schools.a.host), schools.a.teacher.email, public_page)
    assert to_public["Location"] == public_page


def test_a_handover_made_by_someone_else_logs_nobody_in(schools, public_host):
    attacker, victim = schools.b.teacher, schools.a.student
    # The attacker makes a handover link to their own school and keeps it.
    attacker_public = client_for(attacker, public_host)
    link = attacker_public.get(f"/go/{schools.b.tenant.slug}/")["Location"]
    assert urlsplit(link).hostname == schools.b.host

    # The victim opens it: logged in on the public site as themselves, or not at all.
    for victim_public in (client_for(victim, public_host), Client(HTTP_HOST=public_host)):
        victim_tenant, last = follow_handover(link, public=victim_public)
        assert "_auth_user_id" not in victim_tenant.session
        assert last.status_code == 400
        assert victim_tenant.get("/").status_code == 302  # to the login page
    # The ticket is spent: the attacker cannot use it either now.
    _, spent = follow_handover(link, public=attacker_public)
    assert spent.status_code == 400

    # One hop further: the attacker follows a fresh link in their own browser up to the last
    # redirect (the public site vouches for them), and sends that instead.
    link = attacker_public.get(f"/go/{schools.b.tenant.slug}/")["Location"]
    attacker_tenant = Client(HTTP_HOST=schools.b.host)
    first = attacker_tenant.get(link.split(schools.b.host, 1)[1])
    assert urlsplit(first["Location"]).hostname == public_host
    vouched = attacker_public.get(first["Location"].split(public_host, 1)[1])
    last_hop = vouched["Location"]
    assert urlsplit(last_hop).hostname == schools.b.host

    victim_tenant = Client(HTTP_HOST=schools.b.host)
    response = victim_tenant.get(last_hop.split(schools.b.host, 1)[1])
    assert response.status_code == 400
    assert "_auth_user_id" not in victim_tenant.session
    # A victim already logged in there as themselves stays themselves.
    member = client_for(schools.b.student, schools.b.host)
    member.get(attacker_public.get(f"/go/{schools.b.tenant.slug}/")["Location"]
               .split(schools.b.host, 1)[1])
    assert member.session["_auth_user_id"] == str(schools.b.student.pk)

    # The attacker's own browser, which asked for the handover, does get in.
    link = attacker_public.get(f"/go/{schools.b.tenant.slug}/")["Location"]
    own_tenant, landed = follow_handover(link, public=attacker_public)
    assert landed.status_code == 302
    assert own_tenant.session["_auth_user_id"] == str(attacker.pk)
