"""Writes for single sign-on: a school's sign-on rules, its own OpenID Connect server, and the
membership a sign-on makes by itself (tenants.sso.policy)."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.db import transaction

from tenants import chrome
from tenants.errors import DomainError
from tenants.models import Membership, Role, SchoolSignOn, Tenant, User
from tenants.services.auditing import audit
from tenants.services.members import membership_join, require_admin
from tenants.sso import policy

DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
JOIN_ROLES = (Role.STUDENT, Role.TEACHER)


def _sign_on(tenant: Tenant) -> SchoolSignOn:
    sign_on, _ = SchoolSignOn.objects.select_for_update().get_or_create(tenant=tenant)
    return sign_on


def parse_domains(text: str) -> list[str]:
    """The domains in `text` ("example.edu, @pupils.example.edu"), lower-case, or DomainError."""
    domains: list[str] = []
    for item in re.split(r"[\s,;]+", text.strip().lower()):
        item = item.lstrip("@")
        if not item:
            continue
        if not DOMAIN_PATTERN.match(item):
            raise DomainError(
                f"“{item}” is not an email domain (like school.example.edu).",
                code="sso_domain_invalid",
            )
        if item not in domains:
            domains.append(item)
    return domains


@transaction.atomic
def sign_on_update(
    *,
    tenant: Tenant,
    actor: User,
    email_domains: list[str],
    auto_join: bool,
    auto_join_role: str = Role.STUDENT,
) -> SchoolSignOn:
    """Set which email domains sign in to `tenant` and whether people from them join by
    themselves, with which role."""
    require_admin(tenant=tenant, actor=actor)
    if auto_join_role not in JOIN_ROLES:
        raise DomainError(
            "People who join by themselves are students or teachers.", code="sso_role_invalid"
        )
    if auto_join and not email_domains:
        raise DomainError(
            "Add your school's email domains before letting people join by themselves.",
            code="sso_domains_required",
        )
    sign_on = _sign_on(tenant)
    sign_on.email_domains = email_domains
    sign_on.auto_join = auto_join
    sign_on.auto_join_role = auto_join_role
    sign_on.save(update_fields=["email_domains", "auto_join", "auto_join_role", "updated_at"])
    audit(
        actor=actor,
        tenant=tenant,
        action="sso.rules_updated",
        email_domains=email_domains,
        auto_join=auto_join,
        auto_join_role=auto_join_role,
    )
    return sign_on


def _check_issuer(issuer: str) -> str:
    """The issuer URL without a trailing slash, if Practika may fetch it, else DomainError."""
    issuer = issuer.strip().rstrip("/")
    parts = urlsplit(issuer)
    allow_private = settings.PRACTIKA_SSO_ALLOW_PRIVATE_ISSUERS
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise DomainError("The issuer must be an https:// address.", code="sso_issuer_invalid")
    if not parts.hostname or parts.username or parts.query or parts.fragment:
        raise DomainError(
            "The issuer must be a plain address like https://login.example.edu.",
            code="sso_issuer_invalid",
        )
    if allow_private:
        return issuer
    # The server fetches the issuer's discovery document: never an address inside our network.
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror as error:
        raise DomainError(
            f"{parts.hostname} could not be found.", code="sso_issuer_unknown"
        ) from error
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise DomainError("The issuer must be a public address.", code="sso_issuer_invalid")
    return issuer


@transaction.atomic
def school_server_set(
    *, tenant: Tenant, actor: User, issuer: str, client_id: str, secret: str | None
) -> SocialApp:
    """Set `tenant`'s own OpenID Connect server; `secret` None keeps the stored one."""
    require_admin(tenant=tenant, actor=actor)
    issuer = _check_issuer(issuer)
    client_id = client_id.strip()
    if not client_id:
        raise DomainError("Enter the client ID your provider gave you.", code="sso_client_id")
    sign_on = _sign_on(tenant)
    app = sign_on.app or SocialApp(provider="openid_connect")
    if not (secret or app.secret):
        raise DomainError("Enter the client secret your provider gave you.", code="sso_secret")
    app.provider_id = policy.school_provider_id(tenant=tenant)
    app.name = tenant.name[:40]  # allauth's column; the login pages say the tenant's name
    app.client_id = client_id
    if secret:
        app.secret = secret.strip()
    app.settings = {"server_url": issuer, "oauth_pkce_enabled": True}
    app.save()
    if sign_on.app_id != app.pk:
        sign_on.app = app
        sign_on.save(update_fields=["app", "updated_at"])
    audit(
        actor=actor,
        tenant=tenant,
        action="sso.server_set",
        issuer=issuer,
        client_id=client_id,
        secret_changed=bool(secret),
    )
    return app


@transaction.atomic
def school_server_remove(*, tenant: Tenant, actor: User) -> None:
    """Remove `tenant`'s own OpenID Connect server (accounts linked to it stay, unlinked)."""
    require_admin(tenant=tenant, actor=actor)
    sign_on = _sign_on(tenant)
    if sign_on.app is not None:
        sign_on.app.delete()
        # Django sets the sign-on's `app` to NULL with an UPDATE: no save of it runs.
        chrome.forget_tenant_pages(tenant.pk)
        audit(actor=actor, tenant=tenant, action="sso.server_removed")


@transaction.atomic
def sso_join(*, user: User, tenant: Tenant, role: str) -> Membership:
    """`user`'s membership of `tenant`, made with `role` by a sign-on the school lets join."""
    return membership_join(user=user, tenant=tenant, role=role)
