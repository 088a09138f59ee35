"""The public site's API (`/api/v1/` on the base domain): sign-up (started here, finished from
the emailed link) and my tenants."""

from __future__ import annotations

from allauth.core import ratelimit
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import selectors, services
from tenants.apis.shapes import TenantSummarySerializer
from tenants.models import Role, Tenant


class SignupApi(APIView):
    """Start a sign-up for an account that owns a new studio or school.

    The answer is the same whether or not the address has an account: an email goes to the
    address, with a link that finishes the sign-up on the web (choose a password, then the
    new tenant opens), or, for an address that has an account, a notice. Only the studio or
    school fields are checked here (a taken web address is refused with a suggestion).
    """

    permission_classes = (AllowAny,)
    throttle_scope = "signup"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        full_name = serializers.CharField(max_length=150, required=False, default="")
        tenant_name = serializers.CharField(max_length=120)
        slug = serializers.SlugField(max_length=40)
        kind = serializers.ChoiceField(choices=Tenant.Kind.choices)

        class Meta:
            ref_name = "SignupInput"

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()

        class Meta:
            ref_name = "SignupOutput"

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Per address as on the page (ACCOUNT_RATE_LIMITS["signup_email"]), per client by the
        # throttle above.
        email = data.validated_data["email"].strip().lower()
        if not ratelimit.consume(request._request, action="signup_email", key=email):
            raise exceptions.Throttled()
        services.signup_start(**data.validated_data)
        body = {
            "code": "signup_email_sent",
            "message": "Check your email: the link in it finishes the sign-up.",
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class MyTenantsApi(APIView):
    """The studios and schools I belong to, with my role in each."""

    permission_classes = (IsAuthenticated,)

    class OutputSerializer(serializers.Serializer):
        public_id = serializers.UUIDField()
        role = serializers.ChoiceField(choices=Role.choices)
        tenant = TenantSummarySerializer()

        class Meta:
            ref_name = "MyTenant"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        memberships = selectors.memberships_for_user(user=request.user)
        return Response(self.OutputSerializer(memberships, many=True).data)
