"""Storage over HTTP: the local stand-in for S3's presigned GET (used when no bucket is
configured, the embedded default), and the API's answer when storage is unreachable.

(The stand-in for a presigned `UploadPart` URL is learning.uploads.views.upload_part.)

* `signed_media`: GET /media-signed/<token>/ — what a presigned `GetObject` URL is in S3 mode:
  short-lived, bound to the tenant whose host serves it, with HTTP Range support (a `<video>`
  element seeks with `Range: bytes=…` and needs `206 Partial Content`; Django's FileResponse
  always sends the whole file).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from functools import wraps
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods
from rest_framework import status
from rest_framework.response import Response

from learning import storage

STREAM_CHUNK_BYTES = 256 * 1024
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPES = {
    ".mp4": "video/mp4", ".m4a": "audio/mp4", ".jpg": "image/jpeg", ".zip": "application/zip",
}


def storage_errors_as_503(method):
    """Storage being unreachable is not the caller's fault: say so, and that it may retry."""

    @wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except storage.StorageUnavailable:
            return Response(
                {
                    "code": "storage_unavailable",
                    "message": "Storage is not reachable right now. Try again in a minute.",
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )

    return wrapper


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
    filename = storage.media_token_filename(token)
    if filename:
        response["Content-Disposition"] = content_disposition_header(True, filename)
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
