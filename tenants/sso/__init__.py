"""Single sign-on: Google and Microsoft for everyone (configured by the platform in settings),
and each school's own OpenID Connect server (configured in its admin portal), through allauth's
social accounts on the public site and the login handover to the school's host.

- policy: who may sign in where, when an IdP's address links to an existing account, who joins
- services: a school's sign-on settings and its OpenID Connect server (a SocialApp row)
- views: the public site's way into a school's sign-in, and the admin portal's page
"""
