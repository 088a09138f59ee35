from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from tenants.models import (
    AuditEvent,
    Domain,
    EmailSuppression,
    Impersonation,
    Invitation,
    Membership,
    Tenant,
    User,
)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "status", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "slug"]
    readonly_fields = ["schema_name", "public_id", "created_at"]
    inlines = [DomainInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "last_active_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "tenant__slug"]
    list_select_related = ["user", "tenant"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "tenant", "role", "expires_at", "accepted_at"]
    list_select_related = ["tenant"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor", "impersonator", "tenant", "ip_address"]
    list_select_related = ["actor", "impersonator", "tenant"]
    list_filter = ["action"]
    readonly_fields = [
        "created_at",
        "action",
        "actor",
        "impersonator",
        "tenant",
        "data",
        "ip_address",
        "user_agent",
    ]

    # The audit trail is written by the services only: nobody edits or removes an entry here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Impersonation)
class ImpersonationAdmin(admin.ModelAdmin):
    """Staff support sessions, to read; they start and end only through tenants.impersonation."""

    list_display = ["created_at", "staff", "user", "tenant", "started_at", "ended_at", "end_reason"]
    list_select_related = ["staff", "user", "tenant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Deleting a suppression lets mail go to the address again (once its owner has fixed it).
@admin.register(EmailSuppression)
class EmailSuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at", "updated_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    readonly_fields = ["email", "reason", "detail", "created_at", "updated_at"]
