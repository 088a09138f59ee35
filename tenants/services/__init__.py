"""Writes to tenants, users, memberships and invitations, one module per concern; callers
use `from tenants import services` and the names re-exported here.

- lifecycle: a tenant's creation, settings, suspension, two-factor requirement
- signup: sign-up in two steps (the emailed link finishes it), for a new tenant or a join code
- users: accounts; members: roles, removal, activity, and the one path every join takes
- invitations: invitations by email; join_codes: a tenant's join code
- auditing: the audit trail (the action names: tenants.audit_actions); roster: many people at
  once (a roster import)
- deletion: a tenant's deletion (grace period, cancel, staff restore, purge), a member's
  deletion, accounts that belong to no tenant, and the school's data policies
- impersonation: platform staff acting as a member, with a reason and a time limit

Each service takes the acting user where there is one, runs in a transaction, leaves an
audit entry, and queues side effects (email) only after commit.
"""

from tenants.services.auditing import audit, audit_for_tenants_of, import_record
from tenants.services.deletion import (
    activity_events_purge,
    member_delete,
    tenant_data_policy_set,
    tenant_deletion_cancel,
    tenant_deletion_request,
    tenant_purge,
    tenant_restore,
)
from tenants.services.impersonation import (
    impersonation_end,
    impersonation_request,
    impersonation_start,
    impersonations_expire,
)
from tenants.services.invitations import (
    invitation_accept,
    invitation_accept_with_signup,
    invitation_check,
    invitation_create,
    invitation_is_for,
    invitation_revoke,
)
from tenants.services.join_codes import (
    join_code_check,
    join_code_rotate,
    join_with_code,
    join_with_code_signup,
)
from tenants.services.lifecycle import (
    slug_check,
    tenant_create,
    tenant_reactivate,
    tenant_require_mfa,
    tenant_set_support_access,
    tenant_suspend,
    tenant_update,
)
from tenants.services.members import (
    membership_change_role,
    membership_remove,
    membership_touch,
)
from tenants.services.roster import RosterEntry, members_import
from tenants.services.signup import (
    JOIN_KIND,
    PendingSignup,
    SignupResult,
    join_signup_start,
    signup_finish,
    signup_pending,
    signup_start,
    signup_with_tenant,
)
from tenants.services.users import user_create

__all__ = [
    "JOIN_KIND",
    "PendingSignup",
    "RosterEntry",
    "SignupResult",
    "activity_events_purge",
    "audit",
    "audit_for_tenants_of",
    "impersonation_end",
    "impersonation_request",
    "impersonation_start",
    "impersonations_expire",
    "import_record",
    "invitation_accept",
    "invitation_accept_with_signup",
    "invitation_check",
    "invitation_create",
    "invitation_is_for",
    "invitation_revoke",
    "join_code_check",
    "join_code_rotate",
    "join_signup_start",
    "join_with_code",
    "join_with_code_signup",
    "member_delete",
    "members_import",
    "membership_change_role",
    "membership_remove",
    "membership_touch",
    "signup_finish",
    "signup_pending",
    "signup_start",
    "signup_with_tenant",
    "slug_check",
    "tenant_create",
    "tenant_data_policy_set",
    "tenant_deletion_cancel",
    "tenant_deletion_request",
    "tenant_purge",
    "tenant_reactivate",
    "tenant_require_mfa",
    "tenant_restore",
    "tenant_set_support_access",
    "tenant_suspend",
    "tenant_update",
    "user_create",
]
