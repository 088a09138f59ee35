"""Self-serve sign-up on the public site: the form, then the emailed link (choose a password),
then straight into the new tenant's host, logged in. The form answers "check your email" for
every address (tests/security/test_signup_enumeration.py)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_exists

from tenants.models import Domain, Membership, Role, Tenant, User
from tests.conftest import PASSWORD, client_for
from tests.support.handover import follow_handover as follow_across_hosts

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def signup_data(slug: str, email: str | None = None, **overrides) -> dict:
    data = {
        "full_name": "Ana Lima",
        "email": email or f"{slug}@example.com",
        "tenant_name": "Ana's Guitar Studio",
        "slug": slug,
    }
    return data | overrides


def emailed_link(email: str) -> str:
    sent = [m for m in mail.outbox if email in m.to]
    assert len(sent) == 1, [m.subject for m in mail.outbox]
    return re.search(r"https?://\S+/signup/finish/\S+/", sent[0].body).group(0)


def sign_up(client: Client, path: str, data: dict, django_capture_on_commit_callbacks) -> str:
    """Fill in the sign-up form; return the link from the email it sends."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, data)
    assert response.status_code == 200, response.content
    assert "Check your email" in response.content.decode()
    return emailed_link(data["email"])


def finish(client: Client, link: str, password: str = PASSWORD, **fields):
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    data = {
        "password": password,
        "tenant_name": page.context["form"].initial.get("tenant_name", ""),
        "slug": page.context["form"].initial.get("slug", ""),
    }
    return client.post(urlsplit(link).path, data | fields)


def follow_handover(location: str, public: Client) -> tuple[Client, object]:
    """Open the handover URL with a browser on the tenant's host; return it and the page it
    lands on."""
    client, response = follow_across_hosts(location, public=public)
    assert response.status_code == 302
    return client, client.get(response["Location"])


@pytest.mark.parametrize(
    ("path", "kind"), [("/signup/teacher/", "studio"), ("/signup/school/", "school")]
)
def test_signup_creates_the_tenant_and_lands_on_its_host_logged_in(
    public_host, path, kind, django_capture_on_commit_callbacks
):
    slug = unique_slug()
    public = Client(HTTP_HOST=public_host)

    link = sign_up(public, path, signup_data(slug), django_capture_on_commit_callbacks)

    # Nothing exists until the emailed link is used.
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not User.objects.filter(email=f"{slug}@example.com").exists()
    assert urlsplit(link).hostname == public_host
    page = public.get(urlsplit(link).path)
    assert f"{slug}@example.com" in page.content.decode()
    assert "Ana&#x27;s Guitar Studio" in page.content.decode()

    response = finish(public, link)

    assert response.status_code in (302, 303)
    assert response["Location"].startswith(f"http://{slug}.{public_host}/auth/handover/?t=")
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.kind == kind
    assert schema_exists(tenant.schema_name)
    assert Domain.objects.filter(tenant=tenant, domain=f"{slug}.{public_host}").exists()
    user = User.objects.get(email=f"{slug}@example.com")
    assert user.full_name == "Ana Lima"
    assert user.emailaddress_set.get().verified  # the link proved the address
    assert Membership.objects.get(tenant=tenant, user=user).role == Role.OWNER
    # Logged in on the public site too.
    assert public.session["_auth_user_id"] == str(user.pk)

    _, page = follow_handover(response["Location"], public)
    assert page.status_code == 200
    assert page.context["membership"].user == user
    assert page.context["current_tenant"] == tenant
    content = page.content.decode()
    assert "Ana&#x27;s Guitar Studio" in content
    assert "owner here" in content
    # A new studio or school is asked for its first exercise straight away
    assert 'href="/teach/exercises/new/"' in content and "Create an exercise" in content
    # The handover ticket is single use.
    again = Client(HTTP_HOST=f"{slug}.{public_host}").get(
        urlsplit(response["Location"]).path + "?" + urlsplit(response["Location"]).query
    )
    assert again.status_code == 400
    # So is the sign-up link.
    used = Client(HTTP_HOST=public_host).post(urlsplit(link).path, {"password": PASSWORD})
    assert used.status_code == 410
    assert "already used" in used.content.decode()


def test_a_slug_is_made_from_the_name_when_left_empty(
    public_host, django_capture_on_commit_callbacks
):
    name = f"Studio {uuid.uuid4().hex[:6]}"
    public = Client(HTTP_HOST=public_host)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    link = sign_up(
        public, "/signup/teacher/", signup_data("", email=email, tenant_name=name),
        django_capture_on_commit_callbacks,
    )
    response = finish(public, link)
    assert response.status_code == 302
    assert Tenant.objects.filter(name=name, slug=name.lower().replace(" ", "-")).exists()


@pytest.mark.parametrize(
    ("slug", "message", "suggestion"),
    [
        ("school-a", "“school-a” is already taken.", "school-a-2"),
        ("www", "“www” is reserved.", "www-music"),
        ("admin", "“admin” is reserved.", "admin-music"),
        ("Bad Slug!", "Use 3 to 40 lowercase letters", "bad-slug"),
        ("-x", "Use 3 to 40 lowercase letters", "x-studio"),
    ],
)
def test_an_unusable_slug_is_explained_with_a_free_suggestion(
    schools, public_host, slug, message, suggestion
):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    response = Client(HTTP_HOST=public_host).post("/signup/teacher/", signup_data(slug, email))

    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert f"Try “{suggestion}”" in content
    # The free suggestion is filled in, so accepting it is one click.
    assert f'value="{suggestion}"' in content
    assert not User.objects.filter(email=email).exists()


def test_a_taken_email_gets_the_same_answer_and_a_notice_instead(
    schools, public_host, django_capture_on_commit_callbacks
):
    slug = unique_slug()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST=public_host).post(
            "/signup/school/", signup_data(slug, email=schools.a.owner.email.upper())
        )
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not Tenant.objects.filter(slug=slug).exists()
    (notice,) = mail.outbox
    assert notice.to == [schools.a.owner.email]
    assert "already exists" in notice.body
    assert f"http://{public_host}/accounts/password/reset/" in notice.body
    assert "/signup/finish/" not in notice.body


def test_a_weak_password_is_refused_and_nothing_is_created(
    public_host, django_capture_on_commit_callbacks
):
    slug = unique_slug()
    public = Client(HTTP_HOST=public_host)
    link = sign_up(
        public, "/signup/teacher/", signup_data(slug), django_capture_on_commit_callbacks
    )
    response = finish(public, link, password="12345678")
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not User.objects.filter(email=f"{slug}@example.com").exists()


def test_a_slug_taken_before_the_link_is_used_is_explained_with_a_suggestion(
    schools, public_host, django_capture_on_commit_callbacks
):
    slug = unique_slug()
    public = Client(HTTP_HOST=public_host)
    link = sign_up(
        public, "/signup/teacher/", signup_data(slug), django_capture_on_commit_callbacks
    )
    client_for(schools.a.teacher, public_host).post(
        "/signup/teacher/", {"tenant_name": "Quicker", "slug": slug}
    )
    response = finish(public, link)
    assert response.status_code == 200
    assert f"Try “{slug}-2”" in response.content.decode()
    assert finish(public, link, slug=f"{slug}-2").status_code == 302
    assert Tenant.objects.get(slug=f"{slug}-2").name == "Ana's Guitar Studio"


def test_a_logged_in_user_creates_another_studio_and_goes_in(schools, public_host):
    slug = unique_slug()
    client = client_for(schools.a.teacher, public_host)
    page = client.get("/signup/teacher/")
    assert page.status_code == 200 and 'name="tenant_name"' in page.content.decode()
    assert "Your name" not in page.content.decode()  # no account fields when logged in

    response = client.post("/signup/teacher/", {"tenant_name": "Second studio", "slug": slug})

    assert response.status_code == 302
    tenant = Tenant.objects.get(slug=slug)
    assert Membership.objects.get(tenant=tenant, user=schools.a.teacher).role == Role.OWNER
    _, landed = follow_handover(response["Location"], client)
    assert landed.context["membership"].tenant == tenant


def test_the_slug_suggestion_endpoint(schools, public_host):
    client = Client(HTTP_HOST=public_host)
    assert client.get("/signup/slug/", {"name": "Lima Music School"}).json() == {
        "ok": True, "slug": "lima-music-school"
    }
    taken = client.get("/signup/slug/", {"slug": "school-a"}).json()
    assert taken["ok"] is False
    assert taken["slug"] == "school-a-2"
    assert "already taken" in taken["message"]


def test_signup_pages_render_with_labels(public_host):
    client = Client(HTTP_HOST=public_host)
    for path, heading in [
        ("/signup/", "Get started"), ("/signup/teacher/", "Start your teaching studio"),
        ("/signup/school/", "Set up your school"),
    ]:
        content = client.get(path).content.decode()
        assert heading in content
        assert "practika.css" in content
    form = client.get("/signup/school/").content.decode()
    for label in ["Your name", "Email", "School name", "Web address"]:
        assert f">{label}</label>" in form or f">{label}:</label>" in form


def test_signup_posts_are_rate_limited_per_address(public_host):
    # Every sign-up creates a schema; allauth's "signup" limit (20/m/ip) guards our form too.
    client = Client(HTTP_HOST=public_host, REMOTE_ADDR="198.51.100.7")
    for _ in range(20):
        assert client.post("/signup/teacher/", {}).status_code == 200
    refused = client.post("/signup/teacher/", signup_data(unique_slug()))
    assert refused.status_code == 429
    assert Client(HTTP_HOST=public_host).post("/signup/teacher/", {}).status_code == 200
