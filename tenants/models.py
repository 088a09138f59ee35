"""Public-schema identity and tenancy: tenants, domains, users, memberships, invitations."""

from __future__ import annotations

import secrets
import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists
from knox.models import AbstractAuthToken


def new_join_code() -> str:
    # 10 characters from an alphabet without look-alikes (0/O, 1/l): easy to read out in class.
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def tenant_logo_path(tenant: Tenant, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"tenants/{tenant.public_id}/branding/logo-{uuid.uuid4().hex[:8]}.{extension}"


class CommentsOnDeletion(models.TextChoices):
    """What a school does with a deleted member's comments."""

    ANONYMISE = "anonymise", "Keep them, without the author's name"
    DELETE = "delete", "Delete them"


class Tenant(TenantMixin):
    """A school or a teacher's studio; each has its own PostgreSQL schema."""

    class Kind(models.TextChoices):
        SCHOOL = "school", "School"
        STUDIO = "studio", "Studio"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    logo = models.ImageField(upload_to=tenant_logo_path, blank=True)
    join_code = models.CharField(max_length=16, unique=True, default=new_join_code)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=255, blank=True)
    # Set by an owner: owners, admins and teachers need two-factor authentication here.
    mfa_required = models.BooleanField(default=False)
    # Deletion asked for by an owner (tenants.services.deletion): closed to members until
    # `deletion_due_at`, when the beat task purges it; cancelled by an owner or restored by staff
    # before then.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deletion_requested_by = models.ForeignKey(
        "User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The school's data policies: what happens to a deleted member's comments, and how many days
    # after a class ends its replies are kept (None: kept until deleted).
    member_comments_on_deletion = models.CharField(
        max_length=10, choices=CommentsOnDeletion.choices, default=CommentsOnDeletion.ANONYMISE
    )
    reply_retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Set by an owner or admin: whether Practika staff may act as a member for support
    # (tenants.impersonation). On by default; switching it is audited.
    support_access = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["school", "studio"]), name="tenant_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended"]), name="tenant_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(member_comments_on_deletion__in=["anonymise", "delete"]),
                name="tenant_member_comments_policy_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(deletion_due_at__isnull=True)
                | models.Q(deletion_requested_at__isnull=False),
                name="tenant_deletion_due_needs_request",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.schema_name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_closing(self) -> bool:
        """Deletion is scheduled: closed to members, purged at `deletion_due_at`."""
        return self.deletion_due_at is not None

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """A spare schema renamed into place, or a clone of the migrated template schema
        (structure and its migration records), inside the caller's transaction.

        django-tenants would clone and then run a faked `migrate_schemas`, which loads the whole
        migration graph on every sign-up; the template's django_migrations rows are cloned with
        it, so the clone alone leaves the new schema fully migrated.
        """
        # Imported here: the pool keeps its spares in SpareSchema, a model of this module.
        from tenants.schema_pool import schema_provide

        if check_if_exists and schema_exists(self.schema_name):
            return False
        schema_provide(self.schema_name)
        return True

    # The cached copies of a tenant, a domain and a membership (tenants.chrome) are dropped
    # here, however the row is written, rather than in each service: a suspension or a removed
    # member that some code path forgot to announce would keep working from the cache.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from tenants import chrome

        chrome.forget_tenant(self)

    def delete(self, *args, **kwargs):
        from tenants import chrome

        chrome.forget_tenant(self)
        return super().delete(*args, **kwargs)


class SpareSchema(models.Model):
    """A schema cloned from the template ahead of time, waiting to become the next tenant's
    (tenants.schema_pool). Not a tenant: no tenant row or domain points at it."""

    schema_name = models.CharField(max_length=63, unique=True)
    # What it was cloned from (tenants.clone): the template's migrations, which a sign-up
    # checks (cheap), and its full version, structure included, which each refill checks.
    template_migrations = models.CharField(max_length=32)
    template_version = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(schema_name__startswith="spare_"),
                name="spare_schema_name_prefix",
            ),
        ]

    def __str__(self) -> str:
        return self.schema_name


class JobLease(models.Model):
    """A running background job's lease: which run holds the job and until when (learning.jobs
    renews and checks it). In the public schema so that one indexed query finds the lapsed
    jobs of every tenant. `kind` (the task's name) and `object_id` (its argument) name the job;
    they are values, not a foreign key into the tenant's schema."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    token = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "object_id"], name="job_lease_one_per_job"
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="job_lease_expires")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} until {self.expires_at:%H:%M:%S}"


class Domain(DomainMixin):
    """A host name that routes to a tenant (`<slug>.<base domain>`)."""

    def save(self, *args, **kwargs):
        from tenants import chrome

        if self.pk is not None:  # a renamed domain: its old name must stop routing too
            old = Domain.objects.filter(pk=self.pk).values_list("domain", flat=True).first()
            chrome.forget_hosts([old] if old else [])
        super().save(*args, **kwargs)
        chrome.forget_hosts([self.domain])
        chrome.forget_tenant_pages(self.tenant_id)  # its pages show its addresses

    def delete(self, *args, **kwargs):
        from tenants import chrome

        chrome.forget_hosts([self.domain])
        chrome.forget_tenant_pages(self.tenant_id)
        return super().delete(*args, **kwargs)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self._create(email, password, **fields)


class User(AbstractUser):
    """One person, one account, whatever the number of tenants they belong to."""

    username = None  # type: ignore[assignment]
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    # The signed-in user's cached copy (tenants.chrome.user_for_session) is dropped on every
    # write: a new password, a deactivation or a new email counts on the very next request.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from tenants import chrome

        chrome.forget_session_user(self.pk)

    def delete(self, *args, **kwargs):
        from tenants import chrome

        chrome.forget_session_user(self.pk)
        return super().delete(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    TEACHER = "teacher", "Teacher"
    STUDENT = "student", "Student"


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})
# The roles that teach in a tenant (owners and admins teach too). "Staff" elsewhere means
# platform staff (User.is_staff); STAFF_ROLES is the older name of this set, kept as an alias.
TEACHING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.TEACHER})
STAFF_ROLES = TEACHING_ROLES


class Membership(models.Model):
    """A user's role in one tenant."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    last_active_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_one_per_tenant"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.tenant}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from tenants import chrome

        chrome.forget_member(tenant_id=self.tenant_id, user_id=self.user_id)

    def delete(self, *args, **kwargs):
        from tenants import chrome

        chrome.forget_member(tenant_id=self.tenant_id, user_id=self.user_id)
        return super().delete(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_teacher(self) -> bool:
        return self.role in STAFF_ROLES


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An emailed invitation to join a tenant with a role; single use, expires."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="owner"), name="invitation_role_not_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant} as {self.role}"


class LoginHandover(models.Model):
    """A single-use, short-lived ticket that carries a login from one host to a tenant's host.

    Browsers keep `localhost` cookies host-only, so a session does not follow a user from the
    public site to `<slug>.localhost`; the same ticket works unchanged in production.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    next_path = models.CharField(max_length=255, default="/")
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"handover {self.id} for {self.user_id} ({'used' if self.used_at else 'unused'})"


class AuditEvent(models.Model):
    """Who did what to which tenant, when and from where: every write that others must hear
    about leaves one, in the transaction of the write (tenants.services.auditing). The action
    names and their labels are listed once, in tenants.audit_actions."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Set when platform staff acted as `actor` (tenants.impersonation).
    impersonator = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    # Where from: the client's address as Django reads it (REMOTE_ADDR, which the web server
    # sets from PRACTIKA_TRUSTED_PROXIES) and its user agent; empty for background work.
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="audit_tenant_newest"),
            models.Index(fields=["tenant", "action", "-created_at"], name="audit_tenant_action"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def label(self) -> str:
        from tenants import audit_actions

        return audit_actions.label(self.action)


class Impersonation(models.Model):
    """Platform staff acting as a member of a tenant, for support: asked for with a written
    reason on the staff area, started on the tenant's host (django-hijack), ended by the staff
    member or by its time limit. Its start and end are in the tenant's audit log."""

    class EndReason(models.TextChoices):
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Time limit reached"
        REVOKED = "revoked", "Support access switched off"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    staff = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="impersonation_reason_required"
            ),
            models.CheckConstraint(
                condition=~models.Q(staff=models.F("user")), name="impersonation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} as {self.user_id} in {self.tenant_id}"


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox: only its digest is stored, and it expires).

    Issued by `/api/v1/auth/login/`, listed and revoked by its owner through
    `/api/v1/auth/tokens/` (named there by `public_id`), and revoked with every other token of
    its owner when the password changes (tenants.tokens).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"API token {self.public_id} of {self.user_id}"


class EmailSuppression(models.Model):
    """An address we no longer send to: it bounced for good, or its owner called us spam.

    Written by the SES tracking webhook (tenants.email); every outgoing message drops it
    (tenants.email.backend). Addresses are stored lower-cased.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "The address bounced"
        COMPLAINED = "complained", "Marked our email as spam"

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # The receiving server's answer (a bounce's diagnostic) or the complaint's feedback type.
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="email_suppression_lower_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class SchoolSignOn(models.Model):
    """A school's single sign-on rules (tenants.sso): the email domains it signs in, whether
    people from them join by themselves and as what, and its own OpenID Connect server (an
    allauth SocialApp row, provider "openid_connect", provider_id `school-<slug>`)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="sign_on")
    # Lower-case domains ("example.edu"); empty means any domain.
    email_domains = models.JSONField(default=list, blank=True)
    auto_join = models.BooleanField(default=False)
    auto_join_role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    app = models.OneToOneField(
        "socialaccount.SocialApp",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="school_sign_on",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Joining by oneself never makes an owner or an admin.
            models.CheckConstraint(
                condition=models.Q(auto_join_role__in=["teacher", "student"]),
                name="school_sign_on_auto_join_role",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-on of {self.tenant_id}"

    # The school's login page, kept for visitors (tenants.page_cache), shows its sign-on
    # buttons: every write makes the school's kept pages stale, as a tenant's own save does.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from tenants import chrome

        chrome.forget_tenant_pages(self.tenant_id)

    def delete(self, *args, **kwargs):
        from tenants import chrome

        chrome.forget_tenant_pages(self.tenant_id)
        return super().delete(*args, **kwargs)


# An account made by a school for a young student has no mailbox: its address is internal,
# `<tenant slug>.<username>@` this domain, so the unique email column still identifies it.
# `.invalid` is reserved (RFC 2606): nothing can be delivered there, and the email backend
# drops it before trying (tenants.email.backend).
MANAGED_EMAIL_DOMAIN = "students.practika.invalid"


class ManagedAccount(models.Model):
    """A student account without email, made and reset by the school's teachers.

    Signs in on the school's host with a class code, their name and a personal code (PIN);
    the user's password is unusable, so the email login and every emailed flow do not apply.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="managed_account")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="managed_accounts")
    username = models.CharField(max_length=60)
    pin_hash = models.CharField(max_length=128)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                "tenant", Lower("username"), name="managed_account_username_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} ({self.tenant_id})"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class GuardianConsent(models.Model):
    """A parent's or guardian's consent for a student under 13 in a studio.

    Keyed by the student's address in the tenant (asked for with the invitation, before the
    account exists), and tied to the student's account once there is one (`student`), so that
    changing the account's address leaves it bound. Until it is given, the student cannot
    upload; the guardian's signed link (its `nonce` inside) confirms it, shows the child's
    feedback, and withdraws it, which changes the nonce so that every earlier link stops working.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="guardian_consents")
    student_email = models.EmailField()
    # The account of `student_email`, from its joining the studio (or the request, if it
    # existed): the consent stays with it whatever address the account moves to.
    student = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="guardian_consents"
    )
    guardian_email = models.EmailField()
    nonce = models.CharField(max_length=32, default=new_join_code)
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    given_at = models.DateTimeField(null=True, blank=True)
    given_by_name = models.CharField(max_length=150, blank=True)
    given_from_ip = models.GenericIPAddressField(null=True, blank=True)
    given_user_agent = models.CharField(max_length=300, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "student_email"], name="guardian_consent_one_per_student"
            ),
            models.CheckConstraint(
                condition=models.Q(student_email=Lower("student_email")),
                name="guardian_consent_student_lower_case",
            ),
        ]

    def __str__(self) -> str:
        return f"consent for {self.student_email} in {self.tenant_id}"

    @property
    def is_given(self) -> bool:
        return self.given_at is not None and self.withdrawn_at is None
