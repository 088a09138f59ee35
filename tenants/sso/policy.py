"""Practika's rules for a single sign-on, applied by the allauth adapter (tenants.adapters).

A login may be headed to a school: always when it comes through the school's own OpenID Connect
server, and when it was started for the school (`/sso/<slug>/...`, which asks allauth to come
back to `/go/<slug>/`). For such a login:

- a school with email domains signs in only verified addresses in them (the IdP's word that an
  address is verified is the only one taken; another domain is refused with a message);
- a school that lets people join by themselves makes a membership with its chosen role for a
  verified address in its domains (never owner or admin).

An IdP's address links to an existing account only when the IdP says it is verified
(allauth's email authentication); a school's own server, which the school's admin controls,
links only an account that is already a member of that school, at an address in the school's
domains: a school cannot take over anyone else's account by asserting their address. No new
account is made unless the login joins a school (sign-up is otherwise ours, tenants.views).

Two-factor authentication is ours, whatever the IdP did: a user with an authenticator is asked
for a code after the IdP (allauth's login stage), and a school that requires it still does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import Resolver404, resolve

from tenants.errors import PermissionDenied
from tenants.models import Membership, SchoolSignOn, Tenant, User

SCHOOL_PROVIDER_PREFIX = "school-"


class Refusal(PermissionDenied):
    """A sign-in this school's rules refuse, with the sentence the person sees."""


@dataclass(frozen=True)
class Destination:
    """The school a login is headed to, its sign-on rules, and whether its own server answered."""

    tenant: Tenant
    sign_on: SchoolSignOn | None
    by_school_server: bool

    @property
    def domains(self) -> list[str]:
        return list(self.sign_on.email_domains) if self.sign_on else []


def school_provider_id(*, tenant: Tenant) -> str:
    return f"{SCHOOL_PROVIDER_PREFIX}{tenant.slug}"


def is_school_provider(provider_id: str) -> bool:
    return provider_id.startswith(SCHOOL_PROVIDER_PREFIX)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _tenant_from_next(next_url: str | None) -> Tenant | None:
    if not next_url or not next_url.startswith("/") or next_url.startswith("//"):
        return None
    try:
        match = resolve(next_url.split("?", 1)[0], urlconf="config.urls_public")
    except Resolver404:
        return None
    if match.view_name != "tenants:enter":
        return None
    return Tenant.objects.filter(slug=match.kwargs["slug"]).first()


def destination(*, provider_id: str, next_url: str | None) -> Destination | None:
    """Where a login by `provider_id` that returns to `next_url` is headed, if to a school."""
    if is_school_provider(provider_id):
        sign_on = (
            SchoolSignOn.objects.select_related("tenant", "app")
            .filter(app__provider_id=provider_id)
            .first()
        )
        if sign_on is None:
            raise Refusal("This school's sign-in is no longer set up.", "sso_unknown_school")
        return Destination(tenant=sign_on.tenant, sign_on=sign_on, by_school_server=True)
    tenant = _tenant_from_next(next_url)
    if tenant is None:
        return None
    sign_on = SchoolSignOn.objects.filter(tenant=tenant).first()
    return Destination(tenant=tenant, sign_on=sign_on, by_school_server=False)


def check_domain(*, dest: Destination, verified_emails: list[str]) -> str | None:
    """The verified address that the school accepts (None when it has no domains and the IdP
    verified none), or Refusal."""
    if not dest.domains:
        return verified_emails[0] if verified_emails else None
    for email in verified_emails:
        if domain_of(email) in dest.domains:
            return email
    if not verified_emails:
        raise Refusal(
            f"Your sign-in provider did not confirm your email address, so {dest.tenant.name} "
            "cannot let you in with it.",
            "sso_email_unverified",
        )
    allowed = ", ".join(f"@{domain}" for domain in dest.domains)
    raise Refusal(
        f"{dest.tenant.name} signs in only addresses ending in {allowed}. You signed in as "
        f"{verified_emails[0]}: sign out of your provider and use your school account.",
        "sso_domain_refused",
    )


def may_link(*, dest: Destination | None, provider_id: str, user: User, email: str) -> bool:
    """Whether a verified `email` from `provider_id` may log in to `user`, who has that address
    and no link to this IdP account yet."""
    if not is_school_provider(provider_id):
        return True
    if dest is None or domain_of(email) not in dest.domains:
        return False
    return Membership.objects.filter(user=user, tenant=dest.tenant).exists()


def join_role(*, dest: Destination | None, accepted_email: str | None) -> str | None:
    """The role a login joins `dest` with by itself, if the school lets it."""
    if dest is None or dest.sign_on is None or not dest.sign_on.auto_join:
        return None
    if not dest.domains or accepted_email is None:
        return None  # joining by oneself is for the school's own domains only
    return dest.sign_on.auto_join_role
