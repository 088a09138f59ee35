"""Every action the audit log records, named once, with the label a school admin reads.

Services pass these names to `tenants.services.audit`; the audit page's filter lists them in
this order, grouped. A name not listed here is still recorded (and shown as it is), but a test
(tests/tenants/test_audit_log.py) finds every `audit(action=...)` in the code and fails on one
that is missing here, so a new action gets its label when it is added.
"""

from __future__ import annotations

# (group, [(action, label), ...]) in the order the filter shows them.
GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Members",
        [
            ("member.joined", "Member joined"),
            ("member.role_changed", "Role changed"),
            ("member.removed", "Member removed"),
            ("member.deleted", "Member and their data deleted"),
            ("account.deleted", "Account deleted (it belonged to no school)"),
        ],
    ),
    (
        "Invitations",
        [
            ("invitation.created", "Invitation sent"),
            ("invitation.accepted", "Invitation accepted"),
            ("invitation.revoked", "Invitation withdrawn"),
            ("join_code.rotated", "Join code renewed"),
        ],
    ),
    (
        "Imports",
        [
            ("roster.imported", "Roster imported"),
            ("import.completed", "Import completed"),
            ("import.failed", "Import failed"),
        ],
    ),
    (
        "Exports",
        [
            ("export.requested", "Export requested"),
            ("export.completed", "Export ready"),
            ("export.failed", "Export failed"),
            ("export.downloaded", "Export downloaded"),
            ("export.personal_requested", "Personal export requested"),
        ],
    ),
    (
        "Grades",
        [
            ("grade.scored", "Reply scored with a rubric"),
        ],
    ),
    (
        "Deletion and retention",
        [
            ("tenant.deletion_requested", "School deletion requested"),
            ("tenant.deletion_cancelled", "School deletion cancelled"),
            ("tenant.purged", "School deleted after its grace period"),
            ("tenant.restored", "School restored by Practika"),
            ("tenant.data_policy_changed", "Data policy changed (comments, retention)"),
            ("retention.replies_deleted", "Expired replies deleted"),
        ],
    ),
    (
        "Plan and billing",
        [
            ("billing.checkout_started", "Checkout started"),
            ("billing.plan_assigned", "Plan assigned by Practika"),
            ("subscription.created", "Subscription started"),
            ("subscription.changed", "Subscription changed"),
            ("subscription.cancelled", "Subscription cancelled"),
        ],
    ),
    (
        "Security",
        [
            ("mfa.enrolled", "Two-factor authentication set up"),
            ("mfa.removed", "Two-factor authentication removed"),
            ("mfa.recovery_codes_reset", "Recovery codes renewed"),
            ("tenant.mfa_required_changed", "Two-factor requirement switched"),
            ("tenant.support_access_changed", "Support access switched"),
        ],
    ),
    (
        "Single sign-on and LMS",
        [
            ("sso.server_set", "Single sign-on server set"),
            ("sso.server_removed", "Single sign-on server removed"),
            ("sso.rules_updated", "Sign-in rules changed"),
            ("lti.registration_created", "LMS connected"),
            ("lti.registration_updated", "LMS connection changed"),
            ("lti.registration_deleted", "LMS disconnected"),
        ],
    ),
    (
        "Students without email and guardians",
        [
            ("managed_student.created", "Student account without email created"),
            ("managed_student.renamed", "Student account renamed"),
            ("managed_student.pin_reset", "Student's personal code renewed"),
            ("managed_student.locked", "Student account locked after wrong codes"),
            ("managed_student.removed", "Student account removed"),
            ("managed_student.signed_in", "Student signed in with a class code"),
            ("classroom.signin_code_rotated", "Class sign-in code renewed"),
            ("guardian_consent.requested", "Guardian's consent asked"),
            ("guardian_consent.given", "Guardian consented"),
            ("guardian_consent.withdrawn", "Guardian withdrew consent"),
        ],
    ),
    (
        "Co-teaching",
        [
            ("classroom.teachers_changed", "Class teachers changed"),
            ("reply.assigned", "Reply assigned to a reviewer"),
            ("reply.unassigned", "Reply's reviewer removed"),
        ],
    ),
    (
        "Staff access",
        [
            ("staff.impersonation_started", "Practika staff started acting as a member"),
            ("staff.impersonation_ended", "Practika staff stopped acting as a member"),
        ],
    ),
    (
        "School",
        [
            ("tenant.created", "School or studio created"),
            ("tenant.updated", "Settings changed"),
            ("tenant.suspended", "Suspended by Practika"),
            ("tenant.reactivated", "Reactivated by Practika"),
        ],
    ),
    (
        "Accounts",
        [
            ("user.created", "Account created"),
        ],
    ),
]

LABELS: dict[str, str] = {action: label for _, actions in GROUPS for action, label in actions}

# The actions a school's audit page offers in its filter (user.created has no tenant).
FILTERABLE = [(group, actions) for group, actions in GROUPS if group != "Accounts"]


def label(action: str) -> str:
    """What a person reads for `action` (the name itself for one not listed)."""
    return LABELS.get(action, action)


def is_known(action: str) -> bool:
    return action in LABELS
