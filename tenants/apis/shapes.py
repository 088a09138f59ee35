"""Output shapes the identity and tenancy API shares across its operations."""

from __future__ import annotations

from rest_framework import serializers

from tenants import hosts
from tenants.models import Role, Tenant


class TenantSummarySerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Tenant.Kind.choices)
    url = serializers.SerializerMethodField()

    def get_url(self, tenant: Tenant) -> str:
        return hosts.tenant_url(tenant.slug)


class UserSummarySerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    display_name = serializers.CharField()


class MemberSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    user = UserSummarySerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    last_active_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class InvitationSerializer(serializers.Serializer):
    # The token is deliberately absent: it is the invitee's credential and travels by email.
    public_id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)


class MembershipOutputSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Role.choices)
    tenant = TenantSummarySerializer()
