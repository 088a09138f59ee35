"""Sign-up: a new account that owns a new studio or school, or joins one with its code.

Self-serve sign-up (and sign-up with a join code) happens in two steps, so that it tells
nobody whether an address has an account: the form's answer is "check your email" for every
address. A new address gets a signed link that finishes the sign-up (the password is chosen
there, so the link carries no secret and nothing is stored before it is used); an address
that has an account gets a notice instead (allauth's "account already exists" mail) and
nothing else happens. Finishing proves that the person reads the address's mail, like
allauth's email confirmation, and the address is stored as verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from tenants import hosts, schema_pool, selectors
from tenants.errors import InvitationInvalid
from tenants.models import Role, Tenant, User
from tenants.services.join_codes import join_code_check, join_with_code_signup
from tenants.services.lifecycle import tenant_create, tenant_fields_check
from tenants.services.members import membership_policy
from tenants.services.users import account_new

SIGNUP_SALT = "practika.signup"
SIGNUP_LINK_MAX_AGE = timedelta(days=2)
JOIN_KIND = "join"


@dataclass(frozen=True)
class SignupResult:
    user: User
    tenant: Tenant


@dataclass(frozen=True)
class PendingSignup:
    """What a sign-up link carries: who signs up, and for which new tenant or join code."""

    email: str
    full_name: str
    kind: str  # a Tenant.Kind, or JOIN_KIND
    tenant_name: str = ""
    slug: str = ""
    tenant: Tenant | None = None  # the tenant to join, for JOIN_KIND
    code: str = ""


@transaction.atomic
def signup_with_tenant(
    *, email: str, password: str, full_name: str, tenant_name: str, slug: str, kind: str
) -> SignupResult:
    """A new user who owns a new studio or school (sign-up's last step: see signup_finish)."""
    # Before the account is written: a clone must lock the users table first (see there).
    schema_pool.schema_reserve()
    user = account_new(
        email=email, password=password, full_name=full_name,
        taken_message=(
            "An account with this email already exists. Log in to create another studio."
        ),
    )
    tenant = tenant_create(name=tenant_name, slug=slug, kind=kind, owner=user)
    return SignupResult(user=user, tenant=tenant)


def signup_start(*, email: str, full_name: str, tenant_name: str, slug: str, kind: str) -> None:
    """Self-serve sign-up, step one: email the address a link that finishes it."""
    tenant_fields_check(name=tenant_name, slug=slug, kind=kind)
    _signup_link_send(
        payload={
            "e": email.strip().lower(), "n": full_name.strip(), "k": kind,
            "t": tenant_name.strip(), "s": slug,
        },
        login_url=hosts.public_url("/accounts/login/"),
        reset_url=hosts.public_url("/accounts/password/reset/"),
        what=f"your {Tenant.Kind(kind).label.lower()} “{tenant_name.strip()}”",
    )


@transaction.atomic
def join_signup_start(*, tenant: Tenant, code: str, email: str, full_name: str) -> None:
    """Sign-up with a join code, step one: email the address a link that finishes it."""
    join_code_check(tenant=tenant, code=code)
    # A full studio says so now, not when the emailed link is opened (it says nothing about
    # the address, so the same answer for every address still holds).
    policy = membership_policy()
    if policy is not None:
        policy.check_join(tenant=tenant, user=None, role=Role.STUDENT)
    _signup_link_send(
        payload={
            "e": email.strip().lower(), "n": full_name.strip(), "k": JOIN_KIND,
            "j": str(tenant.public_id), "c": code.strip().upper(),
        },
        login_url=hosts.tenant_url(tenant.slug, "/accounts/login/"),
        reset_url=hosts.tenant_url(tenant.slug, "/accounts/password/reset/"),
        what=f"your place at {tenant.name}",
    )


def _signup_link_send(*, payload: dict, login_url: str, reset_url: str, what: str) -> None:
    # Both branches do the same work in the request (sign, render, send after commit), so the
    # answer takes about as long whichever it is.
    email = payload["e"]
    token = signing.dumps(payload, salt=SIGNUP_SALT, compress=True)
    if selectors.user_exists(email=email):
        context = {
            "email": email, "login_url": login_url, "password_reset_url": reset_url,
            "current_site": {"name": "Practika", "domain": settings.BASE_DOMAIN},
        }
        prefix = "account/email/account_already_exists"
    else:
        context = {
            "email": email, "what": what, "full_name": payload["n"],
            "finish_url": hosts.public_url(f"/signup/finish/{token}/"),
            "hours": int(SIGNUP_LINK_MAX_AGE.total_seconds() // 3600),
        }
        prefix = "public/email/signup_finish"
    subject = "".join(render_to_string(f"{prefix}_subject.txt", context).splitlines()).strip()
    message = render_to_string(f"{prefix}_message.txt", context)
    transaction.on_commit(
        lambda: send_mail(
            subject=f"[Practika] {subject}", message=message, from_email=None,
            recipient_list=[email],
        )
    )


def signup_pending(*, token: str) -> PendingSignup:
    """The sign-up behind a link, or InvitationInvalid if the link is broken, too old or used
    (its address has an account: the link is what creates it)."""
    invalid = InvitationInvalid(
        "This sign-up link has expired or is not valid. Please sign up again.",
        code="signup_link_invalid",
    )
    try:
        data = signing.loads(
            token, salt=SIGNUP_SALT, max_age=SIGNUP_LINK_MAX_AGE.total_seconds()
        )
    except signing.BadSignature as error:
        raise invalid from error
    if selectors.user_exists(email=data.get("e", "")):
        raise InvitationInvalid(
            "This sign-up link was already used. Log in with your email and password.",
            code="signup_link_used",
        )
    if data.get("k") == JOIN_KIND:
        tenant = Tenant.objects.filter(public_id=data.get("j")).first()
        if tenant is None:
            raise invalid
        return PendingSignup(
            email=data["e"], full_name=data["n"], kind=JOIN_KIND, tenant=tenant, code=data["c"]
        )
    return PendingSignup(
        email=data["e"], full_name=data["n"], kind=data["k"], tenant_name=data["t"],
        slug=data["s"],
    )


@transaction.atomic
def signup_finish(
    *, token: str, password: str, tenant_name: str = "", slug: str = ""
) -> SignupResult:
    """Sign-up, step two (from the emailed link): create the account, then its new tenant or
    its student membership. `tenant_name` and `slug` replace the ones the link carries."""
    from allauth.account.models import EmailAddress

    pending = signup_pending(token=token)
    if pending.kind == JOIN_KIND:
        assert pending.tenant is not None
        membership = join_with_code_signup(
            tenant=pending.tenant, code=pending.code, email=pending.email, password=password,
            full_name=pending.full_name,
        )
        result = SignupResult(user=membership.user, tenant=pending.tenant)
    else:
        result = signup_with_tenant(
            email=pending.email, password=password, full_name=pending.full_name,
            tenant_name=tenant_name or pending.tenant_name, slug=slug or pending.slug,
            kind=pending.kind,
        )
    EmailAddress.objects.create(user=result.user, email=result.user.email, primary=True,
                                verified=True)
    return result
