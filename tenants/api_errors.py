"""One error format for the whole API: `{"code": ..., "message": ...}`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tenants.errors import DomainError


class ErrorSerializer(serializers.Serializer):
    """The body of every error the API answers with (documented as the `Error` schema)."""

    code = serializers.CharField(help_text="Stable, for programs: `not_found`, `invalid`, ...")
    message = serializers.CharField(help_text="For people: what went wrong.")
    suggestion = serializers.CharField(required=False, help_text="What to do instead.")
    fields = serializers.DictField(
        required=False, help_text="With `invalid`: the fields at fault and what is wrong."
    )

    class Meta:
        ref_name = "Error"


def exception_handler(exc, context):
    # As DRF's own handler does, so that these get the one shape too (get_object_or_404).
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "message": exc.message}
        if exc.suggestion:
            body["suggestion"] = exc.suggestion
        return Response(body, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid", "message": "Some fields are not valid.", "fields": exc.detail,
        }
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = {"code": code, "message": str(exc.detail)}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["code"] = "not_authenticated"
    return response


def page_not_found(request, exception):
    """handler404 of both URL confs: a path under /api/ that matches no route gets the API's
    error shape (a client reads JSON there), any other path the page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "message": "There is no such API route or object."},
            status=status.HTTP_404_NOT_FOUND,
        )
    return defaults.page_not_found(request, exception)
