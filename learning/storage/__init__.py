"""Private object storage for recordings: a facade over two backends with one contract.

* S3 mode, when `settings.AWS_STORAGE_BUCKET_NAME` is set (`s3`): browsers upload parts
  straight to the bucket with presigned `UploadPart` URLs and play media through presigned
  `GetObject` URLs, or through signed CloudFront URLs when `PRACTIKA_MEDIA_CDN_DOMAIN` is
  set (production: the distribution of infra/terraform/cloudfront.tf, its key pair id in
  `AWS_CLOUDFRONT_KEY_ID`, the private key in `AWS_CLOUDFRONT_KEY`). Django never carries
  video bytes.
* Local mode, the embedded default (`local`): objects are files under
  `settings.PRIVATE_MEDIA_ROOT`. Parts are PUT to a Django endpoint (`views.upload_part`) and
  playback goes through a signed, short-lived, tenant-bound URL served with HTTP Range support
  (`views.signed_media`, tokens in `tokens`). The folder is never served as static files.

Every key lives under `tenants/<tenant uuid>/` (`keys`); every operation here checks its key
first. Part sizing is in `parts`. Errors are translated into `StorageError`s (`errors`);
`StorageUnavailable` means "try again later". Callers use this module only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from learning.storage import local, s3
from learning.storage.errors import (
    KeyRefused,
    ObjectMissing,
    PartsInvalid,
    PendingUpload,
    StorageError,
    StorageUnavailable,
    StoredObject,
    StoredPart,
)
from learning.storage.keys import check_key, media_prefix, tenant_prefix
from learning.storage.parts import MAX_PARTS, part_count, part_size_for
from learning.storage.tokens import media_token, media_token_filename, media_token_key

__all__ = [
    "MAX_PARTS",
    "KeyRefused",
    "LocalFile",
    "ObjectMissing",
    "PartsInvalid",
    "PendingUpload",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "StoredPart",
    "check_key",
    "copy_prefix",
    "delete_key",
    "delete_prefix",
    "download",
    "download_url",
    "is_s3",
    "list_objects",
    "media_prefix",
    "media_token",
    "media_token_filename",
    "media_token_key",
    "multipart_abort",
    "multipart_complete",
    "multipart_parts",
    "multipart_put_part",
    "multipart_start",
    "object_size",
    "open_local",
    "open_read",
    "open_write",
    "part_count",
    "part_size_for",
    "part_upload_urls",
    "pending_uploads",
    "playback_url",
    "tenant_prefix",
    "tenant_purge",
    "upload",
]


def is_s3() -> bool:
    return bool(settings.AWS_STORAGE_BUCKET_NAME)


# --- The operations (each dispatches to the mode in force) --------------------------------


def multipart_start(*, key: str, content_type: str) -> str:
    """Begin a multipart upload to `key`; return its upload id."""
    return _backend().multipart_start(check_key(key), content_type)


def part_upload_urls(*, key: str, upload_id: str, token: str, count: int, expires_s: int):
    """URLs the browser PUTs parts 1..count to (presigned in S3 mode)."""
    return _backend().part_upload_urls(check_key(key), upload_id, token, count, expires_s)


def multipart_put_part(
    *, key: str, upload_id: str, number: int, stream: BinaryIO, max_bytes: int
) -> str:
    """Store one part from `stream` (local mode only; S3 receives parts itself). Returns ETag."""
    return _local().put_part(check_key(key), upload_id, number, stream, max_bytes)


def multipart_parts(*, key: str, upload_id: str) -> list[StoredPart]:
    """Parts uploaded so far: lets an interrupted browser resume where it stopped."""
    return _backend().list_parts(check_key(key), upload_id)


def multipart_complete(*, key: str, upload_id: str, parts: Iterable[tuple[int, str]]) -> None:
    """Join the named parts (number, ETag) in order into the object `key`."""
    ordered = sorted(parts)
    _backend().multipart_complete(check_key(key), upload_id, ordered)


def multipart_abort(*, key: str, upload_id: str | None = None) -> None:
    """Abandon the multipart upload(s) to `key` and free their parts."""
    _backend().multipart_abort(check_key(key), upload_id)


def pending_uploads(*, prefix: str) -> list[PendingUpload]:
    return _backend().pending_uploads(check_key(prefix))


def object_size(key: str) -> int | None:
    """Size of the object, or None when there is none."""
    return _backend().size(check_key(key))


def download(*, key: str, path: Path) -> None:
    _backend().download(check_key(key), Path(path))


def upload(*, path: Path, key: str, content_type: str) -> None:
    """Store the file at `path` as `key`, replacing any object there (outputs are rewritable)."""
    _backend().upload(Path(path), check_key(key), content_type)


def list_objects(*, prefix: str) -> list[StoredObject]:
    return list(_backend().list_objects(check_key(prefix)))


def delete_prefix(*, prefix: str) -> int:
    """Delete every object under `prefix`; return how many went."""
    prefix = check_key(prefix)
    if not prefix.endswith("/") or prefix == tenant_prefix():
        raise KeyRefused(f"Refusing to delete a whole tenant or a partial name: {prefix!r}")
    return _backend().delete_prefix(prefix)


def copy_prefix(*, source_prefix: str, source_tenant, prefix: str) -> int:
    """Copy every object under `source_prefix`, in `source_tenant`'s folder, to the same names
    under `prefix` in the current tenant's folder (server-side in S3 mode); the source is left
    as it was. Returns how many objects were copied. The one operation that reads another
    tenant's folder, and it names that tenant explicitly (learning.courses copies)."""
    source_prefix = check_key(source_prefix, tenant=source_tenant)
    prefix = check_key(prefix)
    if not source_prefix.endswith("/") or not prefix.endswith("/"):
        raise KeyRefused(f"Copy folders, not partial names: {source_prefix!r} → {prefix!r}")
    backend = _backend()
    count = 0
    for item in list(backend.list_objects(source_prefix)):
        backend.copy(item.key, check_key(prefix + item.key[len(source_prefix) :]))
        count += 1
    return count


def tenant_purge(*, tenant) -> int:
    """Delete every object under `tenant`'s folder, unfinished uploads included (the tenant's
    deletion, once its grace period is over); return how many objects went. The one operation
    that takes a whole tenant's folder, and it names the tenant explicitly."""
    prefix = tenant_prefix(tenant)
    return _backend().delete_prefix(check_key(prefix, tenant=tenant))


def delete_key(*, key: str) -> None:
    _backend().delete_key(check_key(key))


def playback_url(key: str, expires_s: int = 300) -> str:
    """A short-lived URL that plays `key`: a signed CloudFront URL when a media CDN is set, a
    presigned GET in S3 mode otherwise, a signed local route in the embedded default."""
    return _backend().playback_url(check_key(key), expires_s)


def download_url(*, key: str, filename: str, content_type: str, expires_s: int = 300) -> str:
    """Like `playback_url`, but the browser saves the object as `filename`."""
    return _backend().download_url(check_key(key), filename, content_type, expires_s)


@contextlib.contextmanager
def open_read(key: str) -> Iterator[BinaryIO]:
    """The object `key` as a stream to `read(n)` from, piece by piece (never whole)."""
    stream = _backend().open_read(check_key(key))
    try:
        yield stream
    finally:
        stream.close()


@contextlib.contextmanager
def open_write(*, key: str, content_type: str) -> Iterator[BinaryIO]:
    """A write-only, unseekable stream that becomes the object `key` when the block ends
    without an error; on an error nothing is stored (a partial upload is abandoned)."""
    writer = _backend().open_write(check_key(key), content_type)
    try:
        yield writer
    except BaseException:
        with contextlib.suppress(StorageError):  # the original error is the one to report
            writer.abort()
        raise
    writer.commit()


# --- Local playback -----------------------------------------------------------------------


@dataclass
class LocalFile:
    path: Path
    size: int


def open_local(key: str) -> LocalFile | None:
    """The file behind `key` in local mode (for the signed playback view)."""
    path = _local().path(check_key(key))
    try:
        return LocalFile(path=path, size=path.stat().st_size)
    except FileNotFoundError:
        return None


# --- Mode selection -----------------------------------------------------------------------


def _backend() -> s3.S3Backend | local.LocalBackend:
    if is_s3():
        return s3.S3Backend(
            s3.s3_client(
                settings.AWS_S3_ENDPOINT_URL or None,
                settings.AWS_S3_REGION_NAME or None,
                settings.AWS_S3_ADDRESSING_STYLE,
            ),
            settings.AWS_STORAGE_BUCKET_NAME,
            _cdn(),
        )
    return _local()


def _cdn() -> s3.CloudFront | None:
    if not settings.PRACTIKA_MEDIA_CDN_DOMAIN:
        return None
    return s3.CloudFront(
        domain=settings.PRACTIKA_MEDIA_CDN_DOMAIN,
        key_id=settings.AWS_CLOUDFRONT_KEY_ID,
        private_key_pem=settings.AWS_CLOUDFRONT_KEY,
    )


def _local() -> local.LocalBackend:
    return local.LocalBackend(Path(settings.PRIVATE_MEDIA_ROOT))
