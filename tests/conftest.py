"""Session-wide test set-up.

The test database gets the public schema, the tenant template, and two schools (A and B) with
an owner, a teacher and two students each — created once per session (kept between runs by
--reuse-db), so every test module can check isolation against a second school.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import setup_databases

from tenants import hosts
from tenants.models import Membership, Role, Tenant, User

# The browser tests' fixtures (`browser`, `stack`), shared by tests/learning and tests/analytics;
# real storage in both modes (`real_storage`, one moto server per session) for the deletion tests.
pytest_plugins = ["tests.support.browser", "tests.support.deletion"]

PASSWORD = "correct-horse-battery-staple"


@dataclass(frozen=True)
class School:
    tenant: Tenant
    host: str
    owner: User
    teacher: User
    student: User
    other_student: User


def _user(email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=PASSWORD)
    elif not user.check_password(PASSWORD):  # kept by --reuse-db from an interrupted run
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user


def _school(slug: str) -> School:
    from tenants import services

    owner = _user(f"owner@{slug}.example.com")
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = services.tenant_create(
            name=slug.replace("-", " ").title(), slug=slug, kind="school", owner=owner
        )
    members = {}
    for role, name in [
        (Role.TEACHER, "teacher"), (Role.STUDENT, "student"), (Role.STUDENT, "student2")
    ]:
        user = _user(f"{name}@{slug}.example.com")
        Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
        members[name] = user
    return School(
        tenant=tenant, host=hosts.tenant_hostname(slug), owner=owner,
        teacher=members["teacher"], student=members["student"], other_student=members["student2"],
    )


@dataclass(frozen=True)
class Schools:
    a: School
    b: School


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb):
    with django_db_blocker.unblock():
        if not connection.settings_dict["NAME"].startswith("test_"):
            # pytest-django sets up only the databases that collected tests name in a
            # `django_db` mark; a module whose tests commit on their own connections (and so
            # carry none) still needs the test database when it runs alone.
            setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, keepdb=django_db_keepdb
            )
        call_command("migrate_template", verbosity=0)
        _school("school-a")
        _school("school-b")


@pytest.fixture(scope="session")
def schools(django_db_setup, django_db_blocker) -> Schools:
    with django_db_blocker.unblock():
        return Schools(a=_school("school-a"), b=_school("school-b"))


@pytest.fixture
def school_a(schools, db) -> School:
    # Tests change these shared objects in memory (their database changes roll back).
    schools.a.tenant.refresh_from_db()
    return schools.a


@pytest.fixture
def school_b(schools, db) -> School:
    schools.b.tenant.refresh_from_db()
    return schools.b


def member(user: User, tenant: Tenant) -> Membership:
    """`user`'s Membership of `tenant` (with its user and tenant), as the services take it."""
    return Membership.objects.select_related("user", "tenant").get(user=user, tenant=tenant)


def client_for(user: User | None, host: str) -> Client:
    """A test client on `host`, logged in as `user` (or anonymous)."""
    client = Client(HTTP_HOST=host)
    if user is not None:
        # Fresh from the database: a test may have changed the shared object in memory (its
        # password hash, say) and the session must match what the server will read.
        user = User.objects.get(pk=user.pk)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def api_key_for(user: User) -> str:
    """A new API token's key for `user`, as `/api/v1/auth/login/` would issue it."""
    from tenants import tokens

    return tokens.api_token_create(user=user).key


def token_client_for(user: User, host: str) -> Client:
    """A test client on `host` that sends `Authorization: Token <key>` for `user`."""
    return Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")


def enrol_totp(user: User) -> str:
    """Give `user` an authenticator app (allauth's TOTP), as its enrolment page would; return
    the secret, from which `totp_code` computes the codes the app would show."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from allauth.mfa.utils import decrypt

    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return decrypt(existing.data["secret"])
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps_ahead))


def mfa_client_for(user: User, host: str) -> Client:
    """`client_for`, for someone who must use two-factor authentication (platform staff, the
    owners, admins and teachers of a school that requires it): `user` gets an authenticator
    app, and the session is marked as confirmed with it, the way allauth's login step does."""
    from django.http import HttpRequest

    from tenants.mfa import policy

    user = User.objects.get(pk=user.pk)
    enrol_totp(user)
    client = client_for(user, host)
    request = HttpRequest()
    request.session = client.session
    policy.confirm_session(request, user=user, via="test")
    request.session.save()
    return client


@pytest.fixture
def fresh_rate_limits():
    """allauth's and DRF's rate-limit counters (in the process-wide test cache) start from zero,
    and are cleared again afterwards. Modules that count failed logins use it throughout."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def public_host(settings, db) -> str:
    return settings.BASE_DOMAIN


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    from django.db import connection

    connection.set_schema_to_public()
    # The cached tenants, memberships and page chrome (tenants.chrome) of rows the test's
    # rolled-back transaction wrote must not outlive it.
    cache.clear()
