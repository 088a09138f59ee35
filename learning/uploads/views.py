"""The local stand-in for S3's presigned `UploadPart` URL, used when no bucket is configured (the
embedded default): PUT /uploads/<upload token>/parts/<n>. The signed token is the credential
(like a presigned URL), so the view needs no session and no CSRF token; it answers with the
part's ETag as S3 does."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from learning.errors import DomainError
from learning.uploads import services


@csrf_exempt
@require_http_methods(["PUT"])
def upload_part(request: HttpRequest, token: str, number: int) -> HttpResponse:
    try:
        # Read the body as a stream: a part is 8 MiB, more than Django keeps in memory.
        etag = services.upload_part_put(token=token, number=number, stream=request)
    except DomainError as error:
        return JsonResponse(
            {"code": error.code, "message": error.message}, status=error.status_code
        )
    response = HttpResponse(status=200)
    response["ETag"] = etag
    return response
