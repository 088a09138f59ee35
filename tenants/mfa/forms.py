"""allauth's code forms (the login step and re-authentication), checked in the public schema.

Cache keys carry the current schema (django_tenants.cache.make_key): checked on a tenant's
host, allauth's failed-code limit and its "this code was used already" mark would start afresh
on every tenant's host, giving a guesser five tries per host instead of five. Authenticators
and users live in the public schema, so the check loses nothing by running there.
"""

from __future__ import annotations

from allauth.mfa.base import forms
from django_tenants.utils import get_public_schema_name, schema_context


class AuthenticateForm(forms.AuthenticateForm):
    def clean_code(self) -> str:
        with schema_context(get_public_schema_name()):
            return super().clean_code()


class ReauthenticateForm(forms.ReauthenticateForm):
    def clean_code(self) -> str:
        with schema_context(get_public_schema_name()):
            return super().clean_code()
