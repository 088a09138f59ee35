"""The identity and tenancy API: one view per operation, each with its own input and output
serializers, calling tenants.services (writes) and tenants.selectors (reads).

- public: the public site (`/api/v1/` on the base domain): sign-up, my tenants
- members: a tenant's host: the tenant, its members
- invitations: a tenant's host: invitations, the join code, joining with it
- auth: `/api/v1/auth/` on every host: dj-rest-auth's serializers, logout, API tokens
- shapes: the output shapes these share

Every route on a tenant's host is members-only through the default permission class
(tenants.permissions.IsTenantMember); the few that non-members need (join with a code,
accept an invitation) say so explicitly.
"""
