"""Two-factor authentication (allauth.mfa: an authenticator app and recovery codes).

Who must have it: platform staff (`is_staff` or `is_superuser`) on the public site, and on a
tenant's host its owners, admins and teachers when an owner has turned on
`Tenant.mfa_required`. Students are never forced.

What "has it" means for a session: allauth's login step asks anyone with an authenticator
for a code after the password and records method "mfa" in the session. Logins that do not go
through that step (the Django admin's own login form, the sessions our pages start after a
sign-up or a login handover) carry no such record, so `MFARequiredMiddleware` asks for a code
before any page for a session of a user with an authenticator that has none. Hence the login
handover: the public site only mints a ticket from a confirmed session (or for a user with no
authenticator), so redeeming it records the confirmation on the tenant's host
(`policy.handover_redeemed`), and the tenant does not ask again.

Modules: `policy` (the rules and the session records), `middleware` (enforcement on every
page and API request), `forms` (allauth's code forms, counted in the public schema), `views`
(the tenant setting in the admin portal).
"""
