"""Forms of the admin portal's sign-in page (the shape of the input; rules in services)."""

from __future__ import annotations

from django import forms

from tenants.models import Role


class SignOnRulesForm(forms.Form):
    email_domains = forms.CharField(
        label="Email domains",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "school.example.edu, pupils.example.edu"}),
        help_text="Single sign-on lets in only verified addresses at these domains. Empty: any.",
    )
    auto_join = forms.BooleanField(
        label="People from these domains join by themselves", required=False
    )
    auto_join_role = forms.ChoiceField(
        label="They join as",
        choices=[(Role.STUDENT, "Student"), (Role.TEACHER, "Teacher")],
        initial=Role.STUDENT,
    )


class SchoolServerForm(forms.Form):
    issuer = forms.URLField(
        label="Issuer",
        max_length=500,
        assume_scheme="https",
        help_text="Your OpenID Connect provider's address, e.g. https://login.example.edu.",
    )
    client_id = forms.CharField(label="Client ID", max_length=191)
    secret = forms.CharField(
        label="Client secret",
        required=False,
        max_length=191,  # allauth's SocialApp columns
        strip=False,
        # Never rendered back: a stored secret stays stored when this is left empty.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the stored secret.",
    )
