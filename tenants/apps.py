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
