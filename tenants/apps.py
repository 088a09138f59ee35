from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # allauth tells of a newly set-up authenticator only through its signal: the code the
        # user just entered to set it up confirms the session too (tenants.mfa).
        from allauth.mfa.signals import authenticator_added

        from tenants.mfa.policy import authenticator_added_confirms_session

        authenticator_added.connect(
            authenticator_added_confirms_session, dispatch_uid="tenants.mfa.enrolment"
        )
        # Whether a user has a second factor is part of their cached page chrome (tenants.chrome).
        from allauth.mfa.signals import authenticator_removed, authenticator_reset

        from tenants.chrome import forget_user_on_authenticator_change

        for signal in (authenticator_added, authenticator_removed, authenticator_reset):
            signal.connect(forget_user_on_authenticator_change, dispatch_uid="tenants.chrome")
        # SES bounces and complaints reach us as anymail tracking events (tenants.email).
        from anymail.signals import tracking

        from tenants.email.webhooks import suppress_on_bounce_or_complaint

        tracking.connect(suppress_on_bounce_or_complaint, dispatch_uid="tenants.email.suppress")
        # Two-factor changes go to the audit log of each of the user's tenants.
        from tenants.mfa import auditing as mfa_auditing

        authenticator_added.connect(
            mfa_auditing.authenticator_added_audited, dispatch_uid="tenants.audit.mfa_added"
        )
        authenticator_removed.connect(
            mfa_auditing.authenticator_removed_audited, dispatch_uid="tenants.audit.mfa_removed"
        )
        authenticator_reset.connect(
            mfa_auditing.authenticator_reset_audited, dispatch_uid="tenants.audit.mfa_reset"
        )
