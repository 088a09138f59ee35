"""The claims the tests' provider puts in ID tokens and userinfo."""

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": user.email in settings.VERIFIED_EMAILS,
            "name": user.first_name,
        }
