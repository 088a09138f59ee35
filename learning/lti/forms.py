"""The admin's form for one LMS registration."""

from __future__ import annotations

from django import forms


class RegistrationForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For you, such as “Canvas” or “Moodle”.")
    issuer = forms.CharField(max_length=255, help_text="The LMS's issuer (iss), a URL.")
    client_id = forms.CharField(max_length=255, label="Client id")
    deployment_ids = forms.CharField(
        label="Deployment ids",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line.",
    )
    auth_login_url = forms.URLField(
        max_length=500, assume_scheme="https", label="Authorization (OIDC auth) URL"
    )
    access_token_url = forms.URLField(
        max_length=500, assume_scheme="https", label="Access token URL"
    )
    jwks_url = forms.URLField(max_length=500, assume_scheme="https", label="Keyset (JWKS) URL")

    def clean_deployment_ids(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["deployment_ids"].splitlines()]

    @classmethod
    def initial_of(cls, registration) -> dict:
        fields = {name: getattr(registration, name) for name in cls.base_fields}
        fields["deployment_ids"] = "\n".join(registration.deployment_ids)
        return fields
