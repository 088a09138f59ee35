"""allauth hooks: where people land after logging in, and the public-site host in emails."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # On a tenant's host, stay there; on the public site, pick a tenant (see views).
        if request.tenant.schema_name != "public":
            return "/"
        return "/after-login/"
