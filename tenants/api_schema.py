"""The OpenAPI schema's view of every API operation (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

drf-spectacular documents the success response a view declares; the errors every view can
answer with come from the API's shared machinery instead (authentication, permissions,
parsing and validation, lookups, throttles, tenants.api_errors). They are documented here,
once, from what the view is, so that a client generated from the schema knows each status
and its `{"code", "message"}` body. A view declares only the errors peculiar to it (a 410 for
a spent invitation, a 503 when storage is down) in its own `extend_schema(responses=...)`.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from tenants.api_errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "The request is not valid: unreadable, a field at fault, or refused by a rule.",
    401: "Not logged in, or the token is not valid (any more).",
    403: "Logged in, but not allowed to do this here.",
    404: "There is no such object here, or it is not visible to you.",
    415: "The body's Content-Type is not one this operation reads.",
    429: "Too many requests: wait a moment and try again.",
}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(str(status), self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]),
                str(status),
            ))
        return operation

    def _error_statuses(self, operation: dict) -> list[int]:
        statuses = []
        parameters = operation.get("parameters", [])
        query = [p for p in parameters if p["in"] == "query"]
        pagination = {"limit", "offset"}  # DRF's pager ignores values it cannot read
        if "requestBody" in operation or self.method in WRITE_METHODS - {"DELETE"} or any(
            p["name"] not in pagination for p in query
        ):
            statuses.append(400)
        authenticators = self.view.get_authenticators()
        if authenticators:
            statuses.append(401)  # a token that is wrong or gone is refused on every route
        open_to_all = all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        csrf = self.method in WRITE_METHODS and any(
            isinstance(a, SessionAuthentication) for a in authenticators
        )
        if not open_to_all or csrf:
            statuses.append(403)
        if any(p["in"] == "path" for p in parameters) or "requestBody" in operation:
            statuses.append(404)  # the path's object, or one the body names by id
        if "requestBody" in operation:
            statuses.append(415)
        if self._is_throttled():
            statuses.append(429)
        return statuses

    def _is_throttled(self) -> bool:
        for throttle in self.view.get_throttles():
            if not isinstance(throttle, ScopedRateThrottle):
                return True
            scope = getattr(self.view, throttle.scope_attr, None)
            if scope and scope in api_settings.DEFAULT_THROTTLE_RATES:
                return True
        return False
