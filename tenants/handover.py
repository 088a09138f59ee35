"""The login handover: carrying a login from the public site to a tenant's host.

Sessions are host-only (browsers keep `localhost` cookies host-only, and a shared cookie
domain would hand every tenant's host every session), so the public site, where people log in,
sends them to `<slug>.<base domain>` with a short-lived, single-use signed ticket.

A ticket alone must not log a browser in. Anyone can make one for their own account (log in,
open `/go/<slug>/`, keep the redirect) and send the link: opened by a victim, it would log the
victim silently into the attacker's account and tenant (login CSRF), where what they upload or
type is the attacker's to read. So redeeming a ticket ties it to the browser that asked for it,
OAuth-style, in one round trip that the browser follows without a click:

1. The public site makes a ticket for its logged-in user and sends the browser to
   `/auth/handover/?t=<ticket>` on the tenant's host (`handover_create`).
2. The tenant's host puts a random state in a host-only cookie and sends the browser back to
   the public site with the ticket and the state (`handover_begin`).
3. The public site vouches for the ticket only if its own session is the ticket's user: it
   signs (ticket, state) and sends the browser on to the tenant's host (`handover_vouch`).
   A link made by someone else stops here, since the victim's session on the public site is
   not the attacker's (or there is none): the victim sees a message, not a login.
4. The tenant's host logs in only if the voucher names this ticket and the state in its own
   cookie (`handover_redeem`). A voucher that the attacker fetched with their own browser and
   forwarded fails here, since the victim's browser holds another state, or none.

Every refusal spends the ticket (each step is one UPDATE, outside any transaction that the
refusal would roll back), so a ticket that leaks (a log, a shared screen) is dead after
its first use, whoever uses it. A browser already logged in on the tenant's host as the
ticket's user skips steps 2 to 4. The hops are top-level GET navigations between hosts of one
site, on which browsers send SameSite=Lax cookies. Why not a confirmation page instead: it
would cost every normal login a click, and a click is what phishing asks for anyway.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme

from tenants import hosts
from tenants.errors import InvitationInvalid, PermissionDenied
from tenants.models import LoginHandover, Tenant, User

TICKET_SALT = "practika.handover"
VOUCHER_SALT = "practika.handover.voucher"
# The host-only cookie on the tenant's host that holds the state of step 2.
STATE_COOKIE = "practika_handover_state"
STATE_COOKIE_PATH = "/auth/handover/"


def _invalid() -> InvitationInvalid:
    return InvitationInvalid(
        "This sign-in link has expired or was already used. Please log in.",
        code="handover_invalid",
    )


def handover_create(*, user: User, tenant: Tenant, next_path: str = "/") -> str:
    """A single-use URL on the tenant's host that logs `user` in there (see the module doc)."""
    # A path on the tenant's own host only: not `//evil`, not `/\\evil`, not a full URL.
    if not next_path.startswith("/") or not url_has_allowed_host_and_scheme(
        next_path, allowed_hosts=set()
    ):
        next_path = "/"
    ticket = LoginHandover.objects.create(user=user, tenant=tenant, next_path=next_path)
    token = signing.dumps(str(ticket.id), salt=TICKET_SALT)
    return hosts.tenant_url(tenant.slug, f"/auth/handover/?{urlencode({'t': token})}")


def handover_ticket(*, token: str, tenant: Tenant | None = None) -> LoginHandover:
    """The unused, unexpired ticket behind `token` (on `tenant`, if given), or
    InvitationInvalid."""
    try:
        ticket_id = signing.loads(
            token, salt=TICKET_SALT, max_age=settings.LOGIN_HANDOVER_TTL_SECONDS
        )
    except signing.BadSignature as error:
        raise _invalid() from error
    tickets = LoginHandover.objects.select_related("user", "tenant").filter(
        id=ticket_id, used_at__isnull=True
    )
    if tenant is not None:
        tickets = tickets.filter(tenant=tenant)
    ticket = tickets.first()
    if ticket is None:
        raise _invalid()
    return ticket


def _spend(ticket: LoginHandover) -> bool:
    """Mark the ticket used; False if a concurrent request used it first."""
    return bool(
        LoginHandover.objects.filter(pk=ticket.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
    )


def handover_begin_url(*, token: str, state: str) -> str:
    """Step 2: the public site's address that vouches for `token` in this browser."""
    return hosts.public_url(f"/auth/handover/vouch/?{urlencode({'t': token, 's': state})}")


def handover_vouch(*, token: str, state: str, user: User) -> str:
    """Step 3 (public site): the tenant's URL that finishes the handover, if `user` (this
    browser's session on the public site) is the ticket's user; else spend it and refuse."""
    ticket = handover_ticket(token=token)
    if not state or not getattr(user, "is_authenticated", False) or user.pk != ticket.user_id:
        _spend(ticket)
        raise PermissionDenied(
            f"This sign-in link was not made for you. To open {ticket.tenant.name}, log in "
            "there with your own account.",
            code="handover_other_account",
        )
    voucher = signing.dumps({"h": str(ticket.id), "s": state}, salt=VOUCHER_SALT)
    return hosts.tenant_url(
        ticket.tenant.slug, f"/auth/handover/?{urlencode({'t': token, 'v': voucher})}"
    )


def handover_skip(*, token: str, tenant: Tenant, user: User) -> LoginHandover | None:
    """Use the ticket at once if this browser is already logged in here as its user."""
    ticket = handover_ticket(token=token, tenant=tenant)
    if not getattr(user, "is_authenticated", False) or user.pk != ticket.user_id:
        return None
    if not _spend(ticket):
        raise _invalid()
    return ticket


def handover_redeem(*, token: str, tenant: Tenant, voucher: str, state: str) -> LoginHandover:
    """Step 4 (tenant's host): use the ticket once, if the public site vouched for it in this
    very browser (`state` is this browser's cookie)."""
    ticket = handover_ticket(token=token, tenant=tenant)
    try:
        vouched = signing.loads(
            voucher, salt=VOUCHER_SALT, max_age=settings.LOGIN_HANDOVER_TTL_SECONDS
        )
    except signing.BadSignature:
        vouched = {}
    matches = (
        isinstance(vouched, dict)
        and vouched.get("h") == str(ticket.id)
        and bool(state)
        and constant_time_compare(str(vouched.get("s", "")), state)
    )
    spent = _spend(ticket)
    if not matches:
        raise PermissionDenied(
            "This sign-in link was opened in another browser than the one that asked for it, "
            "so it cannot log you in. Please log in here.",
            code="handover_other_browser",
        )
    if not spent:
        raise _invalid()
    return ticket
