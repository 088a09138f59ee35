"""The class sign-in's page forms."""

from __future__ import annotations

from django import forms


class ClassCodeForm(forms.Form):
    code = forms.CharField(
        label="Class code",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "spellcheck": "false",
                "inputmode": "text",
            }
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()


class PickForm(forms.Form):
    student = forms.CharField(required=False, widget=forms.HiddenInput)
    username = forms.CharField(label="Or type your username", max_length=60, required=False)
    pin = forms.CharField(
        label="Your code",
        max_length=12,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        if not (data.get("student") or data.get("username", "").strip()):
            raise forms.ValidationError("Pick your name, or type your username.")
        return data


class StudentForm(forms.Form):
    full_name = forms.CharField(label="Student's name", max_length=150)
    username = forms.CharField(
        label="Username (optional)",
        max_length=40,
        required=False,
        help_text="Made from the name if left empty.",
    )


class RenameForm(forms.Form):
    full_name = forms.CharField(label="Name", max_length=150)
