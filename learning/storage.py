"""Private object storage for recordings: the one module that talks to S3 (boto3).

Two modes with one contract:

* S3 mode, when `settings.AWS_STORAGE_BUCKET_NAME` is set: browsers upload parts straight to
  the bucket with presigned `UploadPart` URLs and play media through presigned `GetObject`
  URLs. Django never carries video bytes.
* Local mode (the embedded default): objects are files under `settings.PRIVATE_MEDIA_ROOT`.
  Parts are PUT to a Django endpoint (`learning.views_storage.upload_part`) and playback goes
  through a signed, short-lived, tenant-bound URL served with HTTP Range support
  (`learning.views_storage.signed_media`). The folder is never served as static files.

Every key lives under `tenants/<tenant uuid>/`; code in this module refuses any other key.
Errors are translated into `StorageError`s; `StorageUnavailable` means "try again later".
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import boto3
import botocore.config
import botocore.exceptions
from django.conf import settings
from django.core import signing
from django.db import connection
from django.urls import reverse

from tenants.storage import tenant_storage_prefix

# S3's rules: every part but the last is at least 5 MiB; at most 10,000 parts.
MIN_PART_BYTES = 5 * 1024 * 1024
DEFAULT_PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000
COPY_CHUNK_BYTES = 1024 * 1024
MEDIA_TOKEN_SALT = "practika.storage.media"  # noqa: S105 - a namespace, not a secret
# S3 error codes that say "the service is busy or briefly broken", not "your request is wrong".
TRANSIENT_S3_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed"}
)


class StorageError(Exception):
    """Base of storage failures; the message is for logs, not for people."""


class StorageUnavailable(StorageError):
    """Storage is unreachable or overloaded: the same call may succeed later."""


class ObjectMissing(StorageError):
    """The object or the multipart upload does not exist (any more)."""


class PartsInvalid(StorageError):
    """The parts named at completion do not match the parts that were uploaded."""


class KeyRefused(StorageError):
    """A key outside the current tenant's folder, or not a plain relative path."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class PendingUpload:
    key: str
    upload_id: str
    started: datetime


@dataclass(frozen=True)
class StoredPart:
    number: int
    etag: str
    size: int


# --- Keys ---------------------------------------------------------------------------------


def tenant_prefix(tenant=None) -> str:
    """`tenants/<tenant uuid>/` for `tenant`, or for the tenant whose schema is active."""
    tenant = tenant if tenant is not None else getattr(connection, "tenant", None)
    if getattr(tenant, "public_id", None) is None:
        raise KeyRefused("Stored media belongs to a tenant; no tenant is active.")
    return tenant_storage_prefix(tenant)


def media_prefix(media_public_id) -> str:
    """The folder of one media file: its source and everything made from it."""
    return f"{tenant_prefix()}media/{media_public_id}/"


def check_key(key: str, *, tenant=None) -> str:
    """Return `key` if it is a plain relative key inside the tenant's folder, else refuse."""
    parts = key.split("/")
    if key.startswith("/") or any(part in ("", ".", "..") for part in parts[:-1]) or (
        parts[-1] in (".", "..")
    ):
        raise KeyRefused(f"Not a plain storage key: {key!r}")
    if not key.startswith(tenant_prefix(tenant)):
        raise KeyRefused(f"Key outside the current tenant's folder: {key!r}")
    return key


def part_size_for(size: int) -> int:
    """8 MiB parts, larger only when a huge file would need more than S3's 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    return max(DEFAULT_PART_BYTES, needed)


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


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


def delete_key(*, key: str) -> None:
    _backend().delete_key(check_key(key))


def playback_url(key: str, expires_s: int = 300) -> str:
    """A short-lived URL that plays `key`: presigned GET in S3, signed local route otherwise."""
    return _backend().playback_url(check_key(key), expires_s)


# --- Local playback tokens ----------------------------------------------------------------


def _now() -> float:
    return time.time()


def media_token(key: str, expires_s: int) -> str:
    """A signed token naming `key`, the current tenant and an expiry time."""
    payload = {"k": key, "t": str(connection.tenant.public_id), "e": int(_now()) + expires_s}
    return signing.dumps(payload, salt=MEDIA_TOKEN_SALT, compress=True)


def media_token_key(token: str) -> str | None:
    """The key a playback token grants, if it is genuine, unexpired and for this tenant."""
    try:
        payload = signing.loads(token, salt=MEDIA_TOKEN_SALT)
    except signing.BadSignature:
        return None
    tenant = getattr(connection, "tenant", None)
    if payload.get("t") != str(getattr(tenant, "public_id", "")) or payload["e"] < _now():
        return None
    try:
        return check_key(payload["k"])
    except KeyRefused:
        return None


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


def _backend() -> S3Backend | LocalBackend:
    if is_s3():
        return S3Backend(
            _s3_client(
                settings.AWS_S3_ENDPOINT_URL or None,
                settings.AWS_S3_REGION_NAME or None,
                settings.AWS_S3_ADDRESSING_STYLE,
            ),
            settings.AWS_STORAGE_BUCKET_NAME,
        )
    return _local()


def _local() -> LocalBackend:
    return LocalBackend(Path(settings.PRIVATE_MEDIA_ROOT))


@functools.lru_cache(maxsize=8)
def _s3_client(endpoint_url: str | None, region: str | None, addressing_style: str):
    # Credentials come from boto3's usual chain (environment, role); never from settings.
    config = botocore.config.Config(
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


# --- S3 -----------------------------------------------------------------------------------


def _translate_s3(error: Exception) -> StorageError:
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in TRANSIENT_S3_CODES or status >= 500:
            return StorageUnavailable(f"S3 {code}: {error}")
        if code in ("NoSuchUpload", "NoSuchKey", "404", "NotFound"):
            return ObjectMissing(f"S3 {code}: {error}")
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
            return PartsInvalid(f"S3 {code}: {error}")
        return StorageError(f"S3 {code}: {error}")
    return StorageUnavailable(f"S3 unreachable: {error}")


_S3_FAILURES = (
    botocore.exceptions.ClientError,
    botocore.exceptions.BotoCoreError,  # EndpointConnectionError, timeouts, ...
    ConnectionError,
)


class S3Backend:
    def __init__(self, client, bucket: str):
        self.client = client
        self.bucket = bucket

    def _call(self, method: str, **params):
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **params)
        except _S3_FAILURES as error:
            raise _translate_s3(error) from error

    def multipart_start(self, key: str, content_type: str) -> str:
        # The browser's content type is a hint only; processing probes the bytes.
        result = self._call(
            "create_multipart_upload",
            Key=key,
            ContentType=content_type or "application/octet-stream",
        )
        return result["UploadId"]

    def part_upload_urls(self, key, upload_id, token, count, expires_s) -> list[str]:
        return [
            self.client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": n,
                },
                ExpiresIn=expires_s,
                HttpMethod="PUT",
            )
            for n in range(1, count + 1)
        ]

    def list_parts(self, key, upload_id) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker = 0
        while True:
            page = self._call(
                "list_parts", Key=key, UploadId=upload_id, PartNumberMarker=marker
            )
            parts += [
                StoredPart(number=p["PartNumber"], etag=p["ETag"], size=p["Size"])
                for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]

    def multipart_complete(self, key, upload_id, parts) -> None:
        self._call(
            "complete_multipart_upload", Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
        )

    def multipart_abort(self, key, upload_id) -> None:
        ids = [upload_id] if upload_id else [
            pending.upload_id for pending in self.pending_uploads(key) if pending.key == key
        ]
        for one in ids:
            with contextlib.suppress(ObjectMissing):  # already completed or aborted
                self._call("abort_multipart_upload", Key=key, UploadId=one)

    def pending_uploads(self, prefix) -> list[PendingUpload]:
        found: list[PendingUpload] = []
        params: dict = {"Prefix": prefix}
        while True:
            page = self._call("list_multipart_uploads", **params)
            found += [
                PendingUpload(key=u["Key"], upload_id=u["UploadId"], started=u["Initiated"])
                for u in page.get("Uploads", [])
            ]
            if not page.get("IsTruncated"):
                return found
            params["KeyMarker"] = page["NextKeyMarker"]
            params["UploadIdMarker"] = page["NextUploadIdMarker"]

    def size(self, key) -> int | None:
        try:
            return self._call("head_object", Key=key)["ContentLength"]
        except ObjectMissing:
            return None

    def download(self, key, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, key, str(path))
        except _S3_FAILURES as error:
            raise _translate_s3(error) from error

    def upload(self, path: Path, key, content_type) -> None:
        try:
            self.client.upload_file(
                str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}
            )
        except (*_S3_FAILURES, boto3.exceptions.S3UploadFailedError) as error:
            raise StorageUnavailable(f"S3 upload of {key} failed: {error}") from error

    def list_objects(self, prefix) -> Iterator[StoredObject]:
        params: dict = {"Prefix": prefix}
        while True:
            page = self._call("list_objects_v2", **params)
            for item in page.get("Contents", []):
                yield StoredObject(
                    key=item["Key"], size=item["Size"], modified=item["LastModified"]
                )
            if not page.get("IsTruncated"):
                return
            params["ContinuationToken"] = page["NextContinuationToken"]

    def delete_prefix(self, prefix) -> int:
        keys = [item.key for item in self.list_objects(prefix)]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys at a time
            batch = keys[start : start + 1000]
            self._call(
                "delete_objects",
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
        for pending in self.pending_uploads(prefix):
            self.multipart_abort(pending.key, pending.upload_id)
        return len(keys)

    def delete_key(self, key) -> None:
        self._call("delete_object", Key=key)

    def playback_url(self, key, expires_s) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )


# --- Local files --------------------------------------------------------------------------


def _etag(digest: str) -> str:
    return f'"{digest}"'


def _plain_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


class LocalBackend:
    """Objects as files. Writes go to a temporary file in the tenant's `.incoming/` folder
    first and are renamed into place, so a killed process never leaves half an object under
    a real key, and the stray temporary file is swept later."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def _parts_dir(self, key: str, upload_id: str) -> Path:
        if not upload_id or not all(c in "0123456789abcdef" for c in upload_id):
            raise ObjectMissing("No such upload.")
        return self.path(f"{key}.upload-{upload_id}")

    def _incoming(self, key: str) -> Path:
        tenant_folder = "/".join(key.split("/")[:2])
        folder = self.path(f"{tenant_folder}/.incoming")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    def _io(self, action):
        try:
            return action()
        except FileNotFoundError as error:
            raise ObjectMissing(str(error)) from error
        except OSError as error:  # disk full, permissions, I/O error: an operator can fix it
            raise StorageUnavailable(str(error)) from error

    def multipart_start(self, key, content_type) -> str:
        upload_id = uuid.uuid4().hex
        self._io(lambda: self._parts_dir(key, upload_id).mkdir(parents=True))
        return upload_id

    def part_upload_urls(self, key, upload_id, token, count, expires_s) -> list[str]:
        return [
            reverse("upload-part", kwargs={"token": token, "number": n})
            for n in range(1, count + 1)
        ]

    def put_part(self, key, upload_id, number, stream: BinaryIO, max_bytes: int) -> str:
        folder = self._parts_dir(key, upload_id)
        if not folder.is_dir():
            raise ObjectMissing("This upload was completed or cancelled.")
        temp = folder / f"{number:05d}.{uuid.uuid4().hex}.part"
        digest = hashlib.md5(usedforsecurity=False)
        written = 0
        try:
            with temp.open("wb") as out:
                while chunk := stream.read(COPY_CHUNK_BYTES):
                    written += len(chunk)
                    if written > max_bytes:
                        raise PartsInvalid(f"Part {number} is larger than {max_bytes} bytes.")
                    digest.update(chunk)
                    out.write(chunk)
            # A retried part replaces the earlier attempt whole, like S3 does.
            os.replace(temp, folder / f"{number:05d}")
        except FileNotFoundError as error:  # cancelled while this part was arriving
            raise ObjectMissing(str(error)) from error
        except OSError as error:
            raise StorageUnavailable(str(error)) from error
        finally:
            temp.unlink(missing_ok=True)
        return _etag(digest.hexdigest())

    def list_parts(self, key, upload_id) -> list[StoredPart]:
        folder = self._parts_dir(key, upload_id)
        if not folder.is_dir():
            raise ObjectMissing("No such upload.")
        parts = []
        for path in sorted(folder.iterdir()):
            if path.name.isdigit():
                parts.append(
                    StoredPart(
                        number=int(path.name), etag=_etag(_md5_of(path)), size=path.stat().st_size
                    )
                )
        return parts

    def multipart_complete(self, key, upload_id, parts) -> None:
        folder = self._parts_dir(key, upload_id)
        if not folder.is_dir():
            raise ObjectMissing("This upload was completed or cancelled.")
        numbers = [n for n, _ in parts]
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise PartsInvalid("Parts must be numbered 1, 2, 3, … without gaps.")
        temp = self._incoming(key)
        try:
            with temp.open("wb") as out:
                for number, etag in parts:
                    part = folder / f"{number:05d}"
                    if not part.is_file():
                        raise PartsInvalid(f"Part {number} was not uploaded.")
                    digest = hashlib.md5(usedforsecurity=False)
                    with part.open("rb") as source:
                        while chunk := source.read(COPY_CHUNK_BYTES):
                            digest.update(chunk)
                            out.write(chunk)
                    if digest.hexdigest() != _plain_etag(etag):
                        raise PartsInvalid(f"Part {number} does not match its ETag.")
            self.path(key).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, self.path(key))
        except OSError as error:
            raise StorageUnavailable(str(error)) from error
        finally:
            temp.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)

    def multipart_abort(self, key, upload_id) -> None:
        if upload_id:
            shutil.rmtree(self._parts_dir(key, upload_id), ignore_errors=True)
            return
        for pending in self.pending_uploads(key):
            if pending.key == key:
                shutil.rmtree(self._parts_dir(key, pending.upload_id), ignore_errors=True)

    def pending_uploads(self, prefix) -> list[PendingUpload]:
        base = self.path(prefix.rsplit("/", 1)[0])
        if not base.is_dir():
            return []
        found = []
        for folder in base.rglob("*.upload-*"):
            if folder.is_dir():
                key, _, upload_id = str(folder.relative_to(self.root)).rpartition(".upload-")
                if key.startswith(prefix):
                    found.append(
                        PendingUpload(key=key, upload_id=upload_id, started=_mtime(folder))
                    )
        return found

    def size(self, key) -> int | None:
        try:
            return self.path(key).stat().st_size if self.path(key).is_file() else None
        except OSError as error:
            raise StorageUnavailable(str(error)) from error

    def download(self, key, path: Path) -> None:
        self._io(lambda: shutil.copyfile(self.path(key), path))

    def upload(self, path: Path, key, content_type) -> None:
        def write():
            temp = self._incoming(key)
            try:
                shutil.copyfile(path, temp)
                self.path(key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, self.path(key))
            finally:
                temp.unlink(missing_ok=True)

        self._io(write)

    def list_objects(self, prefix) -> Iterator[StoredObject]:
        # Like S3: a prefix is a string prefix of keys, not necessarily a folder.
        base = self.path(prefix.rsplit("/", 1)[0])
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                key = str(path.relative_to(self.root))
                if key.startswith(prefix):
                    yield StoredObject(key=key, size=path.stat().st_size, modified=_mtime(path))

    def delete_prefix(self, prefix) -> int:
        count = 0
        for item in list(self.list_objects(prefix)):
            self.path(item.key).unlink(missing_ok=True)
            count += 1
        folder = self.path(prefix.rstrip("/"))
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        return count

    def delete_key(self, key) -> None:
        self._io(lambda: self.path(key).unlink(missing_ok=True))

    def playback_url(self, key, expires_s) -> str:
        return reverse("media-signed", kwargs={"token": media_token(key, expires_s)})


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as source:
        while chunk := source.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
