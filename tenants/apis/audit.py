"""A tenant's host: its audit log, for owners and admins (the page is tenants.views.audit_log)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from tenants import audit_actions, selectors
from tenants.pagination import PaginatedListMixin
from tenants.permissions import IsTenantAdmin


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    actor_email = serializers.SerializerMethodField()
    impersonator_email = serializers.SerializerMethodField(
        help_text="Practika staff acting as the actor, for support."
    )
    ip_address = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    data = serializers.DictField()

    class Meta:
        ref_name = "AuditEvent"

    def get_actor_email(self, event) -> str | None:
        return event.actor.email if event.actor else None

    def get_impersonator_email(self, event) -> str | None:
        return event.impersonator.email if event.impersonator else None


class AuditEventListApi(PaginatedListMixin, APIView):
    """This tenant's audit log, newest first: filter by action, by part of the actor's email,
    and by days (`since`, `until`, inclusive)."""

    permission_classes = (IsTenantAdmin,)

    class FilterSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=sorted(audit_actions.LABELS), required=False)
        actor = serializers.CharField(required=False, max_length=254)
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)

        class Meta:
            ref_name = "AuditEventFilter"

        def validate(self, attrs):
            if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
                raise serializers.ValidationError("`since` is after `until`.")
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter("action", enum=sorted(audit_actions.LABELS), required=False),
            OpenApiParameter("actor", str, required=False),
            OpenApiParameter("since", OpenApiTypes.DATE, required=False),
            OpenApiParameter("until", OpenApiTypes.DATE, required=False),
        ],
        responses=AuditEventSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = selectors.audit_events(tenant=request.tenant, **filters.validated_data)
        return self.paginated_response(events, AuditEventSerializer)
