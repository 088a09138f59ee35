"""Two-factor changes in the audit log of every tenant the user belongs to.

allauth tells of them only through its signals (`authenticator_added`, `_removed`, `_reset`),
connected in tenants.apps. Removal and the reset of recovery codes are signalled inside
allauth's own transaction; the set-up of an authenticator app is signalled once allauth's
transaction has committed, so its audit entry follows that commit immediately.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator

from tenants.services.auditing import audit_for_tenants_of


def _kind(authenticator: Authenticator) -> str:
    return str(authenticator.type)


def authenticator_added_audited(sender, *, user, authenticator, **kwargs) -> None:
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        return  # made together with the app or key, which is what people need to know of
    audit_for_tenants_of(user=user, action="mfa.enrolled", kind=_kind(authenticator))


def authenticator_removed_audited(sender, *, user, authenticator, **kwargs) -> None:
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        return
    audit_for_tenants_of(user=user, action="mfa.removed", kind=_kind(authenticator))


def authenticator_reset_audited(sender, *, user, authenticator, **kwargs) -> None:
    audit_for_tenants_of(user=user, action="mfa.recovery_codes_reset", kind=_kind(authenticator))
