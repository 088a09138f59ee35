"""The local stand-ins for S3, used when no bucket is configured (the embedded default).

* `upload_part`: PUT /uploads/<upload token>/parts/<n> — what a presigned `UploadPart` URL is
  in S3 mode. The signed token is the credential (like a presigned URL), so the view needs no
  session and no CSRF token; it answers with the part's ETag as S3 does.
* `signed_media`: GET /media-signed/<token>/ — what a presigned `GetObject` URL is in S3 mode:
  short-lived, bound to the tenant whose host serves it, with HTTP Range support (a `<video>`
  element seeks with `Range: bytes=…` and needs `206 Partial Content`; Django's FileResponse
  always sends the whole file).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from learning import storage, uploads
from learning.errors import DomainError

STREAM_CHUNK_BYTES = 256 * 1024
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".jpg": "image/jpeg"}


@csrf_exempt
@require_http_methods(["PUT"])
def upload_part(request: HttpRequest, token: str, number: int) -> HttpResponse:
    try:
        # Read the body as a stream: a part is 8 MiB, more than Django keeps in memory.
        etag = uploads.upload_part_put(token=token, number=number, stream=request)
    except DomainError as error:
        return JsonResponse(
            {"code": error.code, "message": error.message}, status=error.status_code
        )
    response = HttpResponse(status=200)
    response["ETag"] = etag
    return response


@require_http_methods(["GET", "HEAD"])
def signed_media(request: HttpRequest, token: str) -> HttpResponse:
    key = storage.media_token_key(token)
    found = storage.open_local(key) if key else None
    if found is None:
        # Forged, expired, another tenant's, or gone: all look the same from outside.
        raise Http404("No such recording.")
    size = found.size
    content_type = CONTENT_TYPES.get(found.path.suffix) or (
        mimetypes.guess_type(found.path.name)[0] or "application/octet-stream"
    )
    byte_range = _parse_range(request.headers.get("Range", ""), size)
    if byte_range == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        start, end = byte_range
        status = 206
    length = max(0, end - start + 1)
    body = _read(found.path, start, length) if request.method == "GET" else iter(())
    response = StreamingHttpResponse(body, status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    # The URL expires in minutes; shared caches must not keep what it grants.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) of a single byte range, None for the whole file, or "unsatisfiable".

    Several ranges in one header (multipart/byteranges) are answered with the whole file,
    which RFC 9110 allows; browsers never ask for them when playing media.
    """
    match = RANGE_PATTERN.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        remaining = length
        while remaining > 0:
            chunk = source.read(min(STREAM_CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
