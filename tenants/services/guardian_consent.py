"""Consent from a parent or guardian for a studio's student under 13 (GuardianConsent).

A studio's owner asks for it with the invitation; the guardian gets a signed link that states
what is collected, records their consent (who, when, from where), shows the child's feedback
read-only, and withdraws the consent. Until consent is given the student cannot upload.
"""

from __future__ import annotations

from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from tenants import hosts
from tenants.errors import DomainError, NotFound
from tenants.models import GuardianConsent, Tenant, User, new_join_code
from tenants.services.auditing import audit
from tenants.services.members import require_admin

GUARDIAN_LINK_SALT = "practika.tenants.guardian"


def guardian_link_token(*, consent: GuardianConsent) -> str:
    return signing.dumps({"c": str(consent.public_id), "n": consent.nonce}, salt=GUARDIAN_LINK_SALT)


def guardian_consent_from_token(*, tenant: Tenant, token: str) -> GuardianConsent:
    """The consent a guardian's link names, in this tenant and not since revoked; or NotFound."""
    try:
        payload = signing.loads(token, salt=GUARDIAN_LINK_SALT)
    except signing.BadSignature as error:
        raise NotFound("This link is not valid.", code="guardian_link_invalid") from error
    consent = GuardianConsent.objects.filter(
        tenant=tenant, public_id=payload.get("c"), nonce=payload.get("n")
    ).first()
    if consent is None:
        raise NotFound(
            "This link no longer works. Ask the teacher for a new one.",
            code="guardian_link_invalid",
        )
    return consent


@transaction.atomic
def guardian_consent_request(
    *, tenant: Tenant, student_email: str, guardian_email: str, actor: User
) -> GuardianConsent:
    """Ask a guardian for consent for the studio's student under 13 (emailed after commit)."""
    require_admin(tenant=tenant, actor=actor)
    if tenant.kind != Tenant.Kind.STUDIO:
        raise DomainError("Guardian consent is asked for by studios.", code="not_a_studio")
    student_email = student_email.strip().lower()
    guardian_email = guardian_email.strip().lower()
    if not guardian_email or guardian_email == student_email:
        raise DomainError(
            "Give a parent's or guardian's email address, not the student's.",
            code="guardian_email_invalid",
        )
    # An account that already has the address is the student's from now on (asking again
    # keeps the account it was tied to, whatever its address has become).
    existing = User.objects.filter(email__iexact=student_email).first()
    consent, _ = GuardianConsent.objects.update_or_create(
        tenant=tenant,
        student_email=student_email,
        defaults={
            "guardian_email": guardian_email,
            "requested_by": actor,
            "nonce": new_join_code(),
            "given_at": None,
            "given_by_name": "",
            "given_from_ip": None,
            "given_user_agent": "",
            "withdrawn_at": None,
        },
    )
    audit(
        actor=actor,
        tenant=tenant,
        action="guardian_consent.requested",
        student=student_email,
        guardian=guardian_email,
    )
    if consent.student_id is None and existing is not None:
        consent.student = existing
        consent.save(update_fields=["student", "updated_at"])
    transaction.on_commit(lambda: _send_request(consent.pk))
    return consent


def _send_request(consent_id: int) -> None:
    consent = GuardianConsent.objects.select_related("tenant").get(pk=consent_id)
    context = {
        "consent": consent,
        "tenant": consent.tenant,
        "link": hosts.tenant_url(
            consent.tenant.slug, f"/guardian/{guardian_link_token(consent=consent)}/"
        ),
    }
    send_mail(
        subject=f"Your consent for {consent.tenant.name} on Practika",
        message=render_to_string("tenants/email/guardian_consent.txt", context),
        from_email=None,
        recipient_list=[consent.guardian_email],
    )


@transaction.atomic
def guardian_consent_give(
    *, consent: GuardianConsent, guardian_name: str, ip: str | None, user_agent: str
) -> GuardianConsent:
    """Record the guardian's consent: their name, when, and the address and browser used."""
    guardian_name = guardian_name.strip()
    if not guardian_name:
        raise DomainError("Type your name to confirm.", code="guardian_name_required")
    consent.given_at = timezone.now()
    consent.given_by_name = guardian_name[:150]
    consent.given_from_ip = ip
    consent.given_user_agent = user_agent[:300]
    consent.withdrawn_at = None
    consent.save(
        update_fields=[
            "given_at",
            "given_by_name",
            "given_from_ip",
            "given_user_agent",
            "withdrawn_at",
            "updated_at",
        ]
    )
    audit(
        actor=None,
        tenant=consent.tenant,
        action="guardian_consent.given",
        student=consent.student_email,
        guardian=consent.guardian_email,
        name=guardian_name,
        ip=ip,
    )
    return consent


@transaction.atomic
def guardian_consent_withdraw(*, consent: GuardianConsent, ip: str | None) -> None:
    """Withdraw consent: uploads stop again and every link sent so far stops working."""
    consent.withdrawn_at = timezone.now()
    consent.nonce = new_join_code()
    consent.save(update_fields=["withdrawn_at", "nonce", "updated_at"])
    audit(
        actor=None,
        tenant=consent.tenant,
        action="guardian_consent.withdrawn",
        student=consent.student_email,
        ip=ip,
    )


def guardian_consent_required(*, tenant: Tenant, user: User) -> bool:
    """Whether `user` must wait for a guardian's consent before uploading in `tenant`: a
    request tied to the account, or not yet tied and for its address, that is not given."""
    if tenant.kind != Tenant.Kind.STUDIO:
        return False  # only studios ask for consent (guardian_consent_request): no query
    consents = GuardianConsent.objects.filter(tenant=tenant).filter(
        Q(student=user) | Q(student__isnull=True, student_email=user.email.lower())
    )
    return any(not consent.is_given for consent in consents.only("given_at", "withdrawn_at"))


def guardian_consent_student(*, consent: GuardianConsent) -> User | None:
    """The member of the consent's studio whose guardian holds it."""
    members = User.objects.filter(memberships__tenant_id=consent.tenant_id)
    if consent.student_id is not None:
        return members.filter(pk=consent.student_id).first()
    return members.filter(email__iexact=consent.student_email).first()


def guardian_consents_for(*, tenant: Tenant) -> list[GuardianConsent]:
    """The studio's consent requests, for its members page (none in a school: no query)."""
    if tenant.kind != Tenant.Kind.STUDIO:
        return []
    return list(GuardianConsent.objects.filter(tenant=tenant).order_by("student_email"))
