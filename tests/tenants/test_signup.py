"""Self-serve sign-up on the public site: a new account and its studio or school, then straight
into the new tenant's host, logged in, within one page load."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_exists

from tenants.models import Domain, Membership, Role, Tenant, User
from tests.conftest import PASSWORD, client_for


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth's rate limits live in the (process-wide) test cache.
    cache.clear()


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def signup_data(slug: str, email: str | None = None, **overrides) -> dict:
    data = {
        "full_name": "Ana Lima",
        "email": email or f"{slug}@example.com",
        "password": PASSWORD,
        "tenant_name": "Ana's Guitar Studio",
        "slug": slug,
    }
    return data | overrides


def follow_handover(location: str) -> tuple[Client, object]:
    """Open the handover URL with a browser on the tenant's host; return it and the page it
    lands on."""
    url = urlsplit(location)
    client = Client(HTTP_HOST=url.hostname)
    response = client.get(f"{url.path}?{url.query}")
    assert response.status_code == 302
    return client, client.get(response["Location"])


@pytest.mark.parametrize(
    ("path", "kind"), [("/signup/teacher/", "studio"), ("/signup/school/", "school")]
)
def test_signup_creates_the_tenant_and_lands_on_its_host_logged_in(public_host, path, kind):
    slug = unique_slug()
    public = Client(HTTP_HOST=public_host)

    response = public.post(path, signup_data(slug))

    assert response.status_code in (302, 303)
    assert response["Location"].startswith(f"http://{slug}.{public_host}/auth/handover/?t=")
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.kind == kind
    assert schema_exists(tenant.schema_name)
    assert Domain.objects.filter(tenant=tenant, domain=f"{slug}.{public_host}").exists()
    user = User.objects.get(email=f"{slug}@example.com")
    assert Membership.objects.get(tenant=tenant, user=user).role == Role.OWNER
    # Logged in on the public site too.
    assert public.session["_auth_user_id"] == str(user.pk)

    _, page = follow_handover(response["Location"])
    assert page.status_code == 200
    assert page.context["membership"].user == user
    assert page.context["current_tenant"] == tenant
    content = page.content.decode()
    assert "Ana&#x27;s Guitar Studio" in content
    assert "owner here" in content
    # The handover ticket is single use.
    again = Client(HTTP_HOST=f"{slug}.{public_host}").get(
        urlsplit(response["Location"]).path + "?" + urlsplit(response["Location"]).query
    )
    assert again.status_code == 400


def test_a_slug_is_made_from_the_name_when_left_empty(public_host):
    name = f"Studio {uuid.uuid4().hex[:6]}"
    response = Client(HTTP_HOST=public_host).post(
        "/signup/teacher/", signup_data("", email=f"{uuid.uuid4().hex[:8]}@example.com",
                                        tenant_name=name)
    )
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


def test_a_taken_email_is_refused_with_a_clear_message(schools, public_host):
    slug = unique_slug()
    response = Client(HTTP_HOST=public_host).post(
        "/signup/school/", signup_data(slug, email=schools.a.owner.email.upper())
    )
    assert response.status_code == 200
    assert "An account with this email already exists" in response.content.decode()
    assert not Tenant.objects.filter(slug=slug).exists()


def test_a_weak_password_is_refused_and_nothing_is_created(public_host):
    slug = unique_slug()
    response = Client(HTTP_HOST=public_host).post(
        "/signup/teacher/", signup_data(slug, password="12345678")
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not User.objects.filter(email=f"{slug}@example.com").exists()


def test_a_logged_in_user_creates_another_studio_and_goes_in(schools, public_host):
    slug = unique_slug()
    client = client_for(schools.a.teacher, public_host)
    page = client.get("/signup/teacher/")
    assert "Your name" not in page.content.decode()  # no account fields when logged in

    response = client.post("/signup/teacher/", {"tenant_name": "Second studio", "slug": slug})

    assert response.status_code == 302
    tenant = Tenant.objects.get(slug=slug)
    assert Membership.objects.get(tenant=tenant, user=schools.a.teacher).role == Role.OWNER
    _, landed = follow_handover(response["Location"])
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
    for label in ["Your name", "Email", "Password", "School name", "Web address"]:
        assert f">{label}</label>" in form or f">{label}:</label>" in form


def test_signup_posts_are_rate_limited_per_address(public_host):
    # Every sign-up creates a schema; allauth's "signup" limit (20/m/ip) guards our form too.
    client = Client(HTTP_HOST=public_host, REMOTE_ADDR="198.51.100.7")
    for _ in range(20):
        assert client.post("/signup/teacher/", {}).status_code == 200
    refused = client.post("/signup/teacher/", signup_data(unique_slug()))
    assert refused.status_code == 429
    assert Client(HTTP_HOST=public_host).post("/signup/teacher/", {}).status_code == 200
