"""Pages of the public site and of each tenant's host that belong to identity and tenancy,
one module per concern: signup (the public home and sign-up), entering (after login, the
handover to a tenant's host), joining (invitations, join codes), portal (the admin portal),
common (what they share). The staff area is tenants.staff_views, two-factor pages tenants.mfa.

Views parse input, call one service or selector, and render; the rules live in services.
"""
