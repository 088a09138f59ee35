"""Forms of the identity and tenancy pages. They check the shape of the input; the rules
(free slugs, unique emails, who may do what) live in tenants.services, whose DomainErrors the
views attach to the field they concern with `add_domain_error`."""

from __future__ import annotations

from allauth.account import forms as allauth_forms
from django import forms
from django.conf import settings

from tenants import selectors, services
from tenants.errors import DomainError, SlugUnavailable
from tenants.models import CommentsOnDeletion, ManagedAccount, Role, Tenant

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})

# Which field a service's error code belongs to; unknown codes become form-wide errors.
ERROR_FIELDS = {
    "email_taken": "email",
    "password_invalid": "password",
    "slug_unavailable": "slug",
    "name_required": "tenant_name",
    "join_code_invalid": "code",
}


class DomainErrorsMixin:
    def add_domain_error(self, error: DomainError) -> None:
        field = ERROR_FIELDS.get(error.code)
        self.add_error(field if field in self.fields else None, error.message)  # type: ignore[attr-defined]


def _password_field() -> forms.CharField:
    return forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password and not all digits.",
    )


class TenantForm(DomainErrorsMixin, forms.Form):
    """A new studio or school for someone who is already logged in."""

    tenant_name = forms.CharField(label="Name", max_length=120)
    slug = forms.CharField(
        label="Web address",
        max_length=40,
        required=False,
        help_text="Lowercase letters, digits and hyphens. Leave empty to derive it from the name.",
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, kind: str = Tenant.Kind.STUDIO, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.slug_suggestion: str | None = None
        self.base_domain = settings.BASE_DOMAIN
        self.fields["tenant_name"].label = (
            "School name" if kind == Tenant.Kind.SCHOOL else "Studio name"
        )

    def clean(self):
        cleaned = super().clean()
        slug = (cleaned.get("slug") or "").strip().lower()
        if not slug and cleaned.get("tenant_name"):
            slug = selectors.suggest_slug(cleaned["tenant_name"])
        if slug:
            try:
                services.slug_check(slug=slug)
            except SlugUnavailable as error:
                self.add_domain_error(error)
        cleaned["slug"] = slug
        return cleaned

    def add_domain_error(self, error: DomainError) -> None:
        super().add_domain_error(error)
        if error.suggestion:
            # Put the free alternative into the field, so accepting it is one click.
            self.slug_suggestion = error.suggestion
            self.data = self.data.copy()
            self.data["slug"] = error.suggestion


class SignupForm(TenantForm):
    """Self-serve sign-up, step one: who you are and the studio or school you want. The
    password is chosen from the emailed link (SignupFinishForm)."""

    full_name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    field_order = ["full_name", "email", "tenant_name", "slug"]


class SignupFinishForm(TenantForm):
    """Sign-up, step two (from the emailed link): a password, and the studio or school's name
    and address again, in case the address was taken in the meantime."""

    password = _password_field()

    field_order = ["password", "tenant_name", "slug"]

    def __init__(self, *args, with_tenant: bool = True, **kwargs):
        kind = kwargs.pop("kind", Tenant.Kind.STUDIO)
        super().__init__(*args, kind=kind if kind in Tenant.Kind.values else "studio", **kwargs)
        self.with_tenant = with_tenant
        if not with_tenant:  # joining with a code: no tenant of one's own
            del self.fields["tenant_name"]
            del self.fields["slug"]

    def clean(self):
        if not self.with_tenant:
            return forms.Form.clean(self)
        return super().clean()


class InvitationSignupForm(DomainErrorsMixin, forms.Form):
    full_name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = _password_field()


class JoinCodeForm(DomainErrorsMixin, forms.Form):
    code = forms.CharField(
        label="Join code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()


class JoinSignupForm(DomainErrorsMixin, forms.Form):
    """Joining with a code as someone new, step one (the password comes from the emailed
    link, as for self-serve sign-up)."""

    full_name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


INVITABLE_ROLES = [(r.value, r.label) for r in (Role.STUDENT, Role.TEACHER, Role.ADMIN)]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=INVITABLE_ROLES, initial=Role.STUDENT)
    # Studios only: a student under 13 needs a parent's or guardian's consent to upload.
    under_13 = forms.BooleanField(label="This student is under 13", required=False)
    guardian_email = forms.EmailField(
        label="Parent's or guardian's email",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("under_13") and not data.get("guardian_email"):
            self.add_error("guardian_email", "Give a parent's or guardian's email address.")
        return data


class GuardianConsentForm(DomainErrorsMixin, forms.Form):
    guardian_name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    confirm = forms.BooleanField(
        label="I am this student's parent or guardian and I agree to what is described above."
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class TenantSettingsForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    # ImageField opens the upload with Pillow: anything that is not a real image is refused,
    # whatever its extension or declared type (SVG included, which Pillow does not read).
    logo = forms.ImageField(
        label="Logo",
        required=False,
        help_text="PNG, JPEG, GIF or WebP, up to 2 MB. Shown at the top of every page.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo:
            return logo
        if logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError("The logo is larger than 2 MB.")
        # `image` is the Pillow image that ImageField opened; browsers show only these formats.
        if getattr(logo, "image", None) is None or logo.image.format not in LOGO_FORMATS:
            raise forms.ValidationError("Upload a PNG, JPEG, GIF or WebP image.")
        return logo


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=255,
        required=False,
        help_text="Kept in the audit log and shown to staff.",
    )


class ConfirmationForm(forms.Form):
    """A typed confirmation before something that cannot be undone (a deletion)."""

    confirmation = forms.CharField(max_length=254, strip=True)


class DataPolicyForm(forms.Form):
    member_comments = forms.ChoiceField(
        label="When a member is deleted, their comments are",
        choices=CommentsOnDeletion.choices,
        widget=forms.RadioSelect,
    )
    reply_retention_days = forms.IntegerField(
        label="Days replies are kept after a class ends",
        required=False,
        min_value=0,
        max_value=10 * 366,
        help_text="Leave empty to keep them until someone deletes them.",
    )


class RestoreForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=255,
        help_text="Why staff restore it (the owner asked support, say); kept in the audit log.",
    )


class AddEmailForm(allauth_forms.AddEmailForm):
    """allauth's "add an email address" (ACCOUNT_FORMS), refused to a student account without
    email: its teachers manage it, and an address would open the emailed flows to it."""

    def clean_email(self) -> str:
        if ManagedAccount.objects.filter(user=self.user).exists():
            raise forms.ValidationError(
                "Your teachers manage this account; it cannot have an email address."
            )
        return super().clean_email()


class ImpersonateForm(forms.Form):
    """Staff area: act as one member of a tenant, for support, saying why."""

    member = forms.UUIDField(widget=forms.HiddenInput)
    # Not `required` in the browser: the service refuses an empty or too-short reason and says
    # why, the same for the page and any other caller.
    reason = forms.CharField(
        label="Why do you need to act as this member?", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Goes into the school's audit log, which its owners and admins read.",
    )


class SupportAccessForm(forms.Form):
    support_access = forms.BooleanField(
        label="Let Practika support act as a member to help with a problem", required=False,
        help_text=(
            "Staff must give a reason, see a banner the whole time, and are logged out after "
            "30 minutes; each session is in the audit log."
        ),
    )


class AuditFilterForm(forms.Form):
    """The audit log's filters (GET)."""

    action = forms.ChoiceField(required=False)
    actor = forms.CharField(label="Who (email)", required=False, max_length=254)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from tenants import audit_actions

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "All actions")] + [
            (group, actions) for group, actions in audit_actions.FILTERABLE
        ]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned
