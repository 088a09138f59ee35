"""The S3 backend: the one module that talks to S3 (boto3). Browsers upload parts with
presigned `UploadPart` URLs and play media through presigned `GetObject` URLs, or, when a
media CDN is configured (production), through CloudFront URLs signed with the app's key
(botocore's `CloudFrontSigner`, RSA from `cryptography`); botocore's errors become
learning.storage errors."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import boto3
import botocore.config
import botocore.exceptions
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from learning.storage.errors import (
    ObjectMissing,
    PartsInvalid,
    PendingUpload,
    StorageError,
    StorageUnavailable,
    StoredObject,
    StoredPart,
)

# S3 error codes that say "the service is busy or briefly broken", not "your request is wrong".
TRANSIENT_S3_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed"}
)


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str | None, region: str | None, addressing_style: str):
    # Credentials come from boto3's usual chain (environment, role); never from settings.
    config = botocore.config.Config(
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


@dataclass(frozen=True)
class CloudFront:
    """A CloudFront distribution in front of the bucket whose key group trusts `key_id`."""

    domain: str
    key_id: str
    private_key_pem: str


@functools.lru_cache(maxsize=4)
def _cloudfront_signer(key_id: str, private_key_pem: str) -> CloudFrontSigner:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("The CloudFront signing key must be an RSA private key (PEM).")

    # CloudFront verifies canned-policy signatures as RSA-SHA1 (its documented scheme).
    def rsa_signer(message: bytes) -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    return CloudFrontSigner(key_id, rsa_signer)


def cloudfront_url(cdn: CloudFront, key: str, expires_s: int) -> str:
    """`https://<cdn>/<key>` signed with a canned policy that ends in `expires_s` seconds."""
    signer = _cloudfront_signer(cdn.key_id, cdn.private_key_pem)
    url = f"https://{cdn.domain}/{quote(key, safe='/')}"
    expires = datetime.now(UTC) + timedelta(seconds=expires_s)
    return signer.generate_presigned_url(url, date_less_than=expires)


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


# One part of a streamed write (open_write): 16 MiB allows objects up to 160 GB (10,000 parts).
WRITE_PART_BYTES = 16 * 1024 * 1024

_S3_FAILURES = (
    botocore.exceptions.ClientError,
    botocore.exceptions.BotoCoreError,  # EndpointConnectionError, timeouts, ...
    ConnectionError,
)


class S3Backend:
    def __init__(self, client, bucket: str, cdn: CloudFront | None = None):
        self.client = client
        self.bucket = bucket
        self.cdn = cdn

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

    def copy(self, source_key, key) -> None:
        """A server-side copy: the bytes never leave S3 (boto3's managed copy uses CopyObject,
        or UploadPartCopy parts for objects over its multipart threshold)."""
        try:
            self.client.copy({"Bucket": self.bucket, "Key": source_key}, self.bucket, key)
        except (*_S3_FAILURES, boto3.exceptions.S3UploadFailedError) as error:
            raise _translate_s3(error) from error

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
        if self.cdn is not None:
            return cloudfront_url(self.cdn, key, expires_s)
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )

    def download_url(self, key, filename, content_type, expires_s) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": content_type,
        }
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)

    def open_read(self, key) -> _S3Reader:
        return _S3Reader(self._call("get_object", Key=key)["Body"], key)

    def open_write(self, key, content_type) -> _S3Writer:
        return _S3Writer(self, key, content_type)


class _S3Reader:
    """A GetObject body read piece by piece: the object never sits whole in memory."""

    def __init__(self, body, key: str):
        self.body = body
        self.key = key

    def read(self, size: int = -1) -> bytes:
        try:
            return self.body.read(size if size >= 0 else None)
        except (*_S3_FAILURES, OSError) as error:  # a connection dropped mid-body included
            raise _translate_s3(error) from error

    def close(self) -> None:
        self.body.close()


class _S3Writer:
    """A write-only stream stored as a multipart upload: bytes are sent one part at a time, so
    the writer holds at most one part (`WRITE_PART_BYTES`) in memory. Not seekable: Python's
    zipfile then writes data descriptors instead of seeking back to fill in sizes."""

    def __init__(self, backend: S3Backend, key: str, content_type: str):
        self.backend = backend
        self.key = key
        self.upload_id = backend.multipart_start(key, content_type)
        self.buffer = bytearray()
        self.parts: list[tuple[int, str]] = []

    def write(self, data) -> int:
        self.buffer += data
        while len(self.buffer) >= WRITE_PART_BYTES:
            self._send(bytes(memoryview(self.buffer)[:WRITE_PART_BYTES]))
            del self.buffer[:WRITE_PART_BYTES]
        return len(data)

    def flush(self) -> None:
        """Parts go out when full (S3 refuses parts under 5 MiB except the last)."""

    def _send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        result = self.backend._call(
            "upload_part", Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append((number, result["ETag"]))

    def commit(self) -> None:
        if self.buffer or not self.parts:
            self._send(bytes(self.buffer))
            self.buffer = bytearray()
        self.backend.multipart_complete(self.key, self.upload_id, self.parts)

    def abort(self) -> None:
        self.buffer = bytearray()
        self.backend.multipart_abort(self.key, self.upload_id)
