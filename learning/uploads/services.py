"""The upload flow: browsers upload straight to storage, then learning.media processes the file.

    upload_start     checks limits, creates the MediaFile (awaiting_upload), starts a multipart
                     upload and hands out one URL per part (presigned S3 or the local endpoint)
    upload_part_put  local mode only: stores one part sent to the local endpoint
    upload_complete  joins the parts, checks the size that arrived, marks the media `uploaded`
                     and queues its processing on commit (learning.media.tasks.process_media)
    upload_abort     the person cancelled: frees the parts and forgets the media file

An upload is addressed by a signed *upload token* (media id, storage upload id, tenant, part
plan, expiry), so the storage upload id never needs a column and a token cannot be replayed on
another tenant's host. Inside a tenant's schema the tenant is implicit, as everywhere in
`learning`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core import signing
from django.db import connection, transaction

from billing import services as billing_services
from learning import page_parts, roles, storage
from learning.courses import gates
from learning.errors import LimitReached, NotFound, PermissionDenied, UploadRejected
from learning.media.pipeline.probing import format_bytes
from learning.models import Exercise, MediaFile
from tenants.models import Membership, Role
from tenants.services import guardian_consent

UPLOAD_TOKEN_SALT = "practika.uploads.upload"  # noqa: S105 - a namespace, not a secret
MAX_FILENAME_CHARS = 255


@dataclass(frozen=True)
class UploadTicket:
    """What a browser needs to send a file straight to storage."""

    media: MediaFile
    token: str
    part_size: int
    part_urls: list[str]
    expires_at: datetime


@dataclass(frozen=True)
class UploadGrant:
    """A verified upload token."""

    media: MediaFile
    upload_id: str
    part_size: int
    part_count: int
    expires_at: datetime


def _now() -> float:
    return time.time()


# --- Limits -------------------------------------------------------------------------------


def upload_allowed(*, member: Membership | None, size: int) -> None:
    """Raise LimitReached when `member` may not upload `size` bytes now.

    The site-wide size limit first, then the plan's (storage quota, read-only tenants), which
    billing decides. Checked again with the real duration once the file is probed.
    """
    limit = settings.PRACTIKA_MAX_UPLOAD_BYTES
    if size > limit:
        raise LimitReached(
            f"This file is {format_bytes(size)}; the limit is {format_bytes(limit)}.",
            code="file_too_large",
        )
    user = getattr(member, "user", None)
    billing_services.check_upload_allowed(tenant=connection.tenant, size_bytes=size, user=user)


def guardian_consent_check(*, member: Membership) -> None:
    """Raise PermissionDenied (`guardian_consent_required`) while a studio's student under 13
    waits for a parent's or guardian's consent (tenants.services.guardian_consent)."""
    if member.role == Role.STUDENT and guardian_consent.guardian_consent_required(
        tenant=connection.tenant, user=member.user
    ):
        raise PermissionDenied(
            "You can upload once your parent or guardian has agreed. We emailed them a link; "
            "ask them to open it, or ask your teacher to send it again.",
            code="guardian_consent_required",
        )


def upload_refusal(*, member: Membership | None) -> PermissionDenied | None:
    """Why `member` may not upload at all right now (for the pages to say), or None."""
    if member is None:
        return None
    try:
        guardian_consent_check(member=member)
    except PermissionDenied as error:
        return error
    return None


# --- Tokens -------------------------------------------------------------------------------


def _upload_token(*, media: MediaFile, upload_id: str, part_size: int, count: int, exp: int):
    payload = {
        "m": str(media.public_id),
        "u": upload_id,
        "t": str(connection.tenant.public_id),
        "p": part_size,
        "n": count,
        "e": exp,
    }
    return signing.dumps(payload, salt=UPLOAD_TOKEN_SALT, compress=True)


def upload_grant(*, token: str) -> UploadGrant:
    """Verify an upload token for the current tenant; raise PermissionDenied if it is not."""
    try:
        payload = signing.loads(token, salt=UPLOAD_TOKEN_SALT)
    except signing.BadSignature as error:
        raise PermissionDenied("This upload link is not valid.", code="upload_token_invalid") from (
            error
        )
    if payload.get("t") != str(connection.tenant.public_id):
        raise PermissionDenied("This upload link is not valid here.", code="upload_token_invalid")
    if payload["e"] < _now():
        raise PermissionDenied(
            "This upload link has expired. Start the upload again.", code="upload_token_expired"
        )
    media = MediaFile.objects.filter(public_id=payload["m"]).first()
    if media is None:
        raise NotFound("This upload was cancelled.", code="upload_not_found")
    return UploadGrant(
        media=media,
        upload_id=payload["u"],
        part_size=payload["p"],
        part_count=payload["n"],
        expires_at=datetime.fromtimestamp(payload["e"], tz=UTC),
    )


def _own_grant(*, member: Membership | None, token: str) -> UploadGrant:
    grant = upload_grant(token=token)
    if member is None or grant.media.owner_id != member.user_id:
        raise PermissionDenied("This upload belongs to someone else.", code="upload_forbidden")
    return grant


# --- The upload flow ----------------------------------------------------------------------


@transaction.atomic
def upload_start(
    *,
    member: Membership | None,
    purpose: str,
    filename: str,
    size: int,
    content_type: str = "",
    exercise: Exercise | None = None,
) -> UploadTicket:
    """Check the limits, create the media file and start a multipart upload to storage. A reply's
    upload that names its exercise is refused while the exercise is locked for the student."""
    if purpose not in MediaFile.Purpose.values:
        raise UploadRejected("Upload a demonstration or a reply.", code="purpose_invalid")
    if exercise is not None:
        if purpose != MediaFile.Purpose.REPLY:
            raise UploadRejected(
                "Only a reply's upload names its exercise.", code="purpose_invalid"
            )
        if member is not None:
            gates.require_open(member=member, exercise=exercise)
    if purpose in (MediaFile.Purpose.DEMONSTRATION, MediaFile.Purpose.COMMENT):
        roles.require_teacher(member)
    elif member is None:
        raise PermissionDenied("Only members can upload.", code="members_only")
    if size < 0:
        raise UploadRejected("The file size is not valid.", code="size_invalid")
    guardian_consent_check(member=member)
    upload_allowed(member=member, size=size)
    media = MediaFile(
        owner=member.user,
        purpose=purpose,
        declared_bytes=size,
        original_name=Path(filename or "").name[:MAX_FILENAME_CHARS],
    )
    media.source_key = f"{storage.media_prefix(media.public_id)}source"
    media.save()
    part_size = storage.part_size_for(size)
    count = storage.part_count(size, part_size)
    # The content type is stored as a hint; processing never trusts it and probes the bytes.
    upload_id = storage.multipart_start(key=media.source_key, content_type=content_type[:100])
    expires_s = settings.PRACTIKA_UPLOAD_URL_EXPIRES_S
    exp = int(_now()) + expires_s
    token = _upload_token(
        media=media, upload_id=upload_id, part_size=part_size, count=count, exp=exp
    )
    urls = storage.part_upload_urls(
        key=media.source_key, upload_id=upload_id, token=token, count=count, expires_s=expires_s
    )
    return UploadTicket(
        media=media,
        token=token,
        part_size=part_size,
        part_urls=urls,
        expires_at=datetime.fromtimestamp(exp, tz=UTC),
    )


def upload_part_put(*, token: str, number: int, stream: BinaryIO) -> str:
    """Store one part that a browser sent to the local upload endpoint; return its ETag."""
    grant = upload_grant(token=token)
    if grant.media.state != MediaFile.State.AWAITING_UPLOAD:
        raise UploadRejected("This upload is already complete.", code="upload_finished")
    if not 1 <= number <= grant.part_count:
        raise UploadRejected(f"Part {number} is not part of this upload.", code="part_invalid")
    try:
        return storage.multipart_put_part(
            key=grant.media.source_key,
            upload_id=grant.upload_id,
            number=number,
            stream=stream,
            max_bytes=grant.part_size,
        )
    except storage.ObjectMissing as error:
        raise NotFound("This upload was cancelled.", code="upload_not_found") from error
    except storage.PartsInvalid as error:
        raise UploadRejected(str(error), code="part_too_large") from error


def upload_parts(
    *, member: Membership | None, token: str
) -> tuple[UploadGrant, list[storage.StoredPart]]:
    """The parts stored so far, so that an interrupted upload resumes instead of restarting."""
    grant = _own_grant(member=member, token=token)
    if grant.media.state != MediaFile.State.AWAITING_UPLOAD:
        return grant, []
    try:
        parts = storage.multipart_parts(key=grant.media.source_key, upload_id=grant.upload_id)
    except storage.ObjectMissing as error:
        raise NotFound("This upload was cancelled.", code="upload_not_found") from error
    return grant, parts


def upload_part_urls(*, grant: UploadGrant, token: str) -> list[str]:
    """Fresh part URLs for an upload still in progress, valid as long as its token."""
    if grant.media.state != MediaFile.State.AWAITING_UPLOAD:
        return []
    seconds_left = max(1, int(grant.expires_at.timestamp() - _now()))
    return storage.part_upload_urls(
        key=grant.media.source_key,
        upload_id=grant.upload_id,
        token=token,
        count=grant.part_count,
        expires_s=seconds_left,
    )


@transaction.atomic
def upload_complete(
    *, member: Membership | None, token: str, parts: list[tuple[int, str]]
) -> MediaFile:
    """Join the uploaded parts, mark the media file `uploaded` and queue its processing."""
    grant = _own_grant(member=member, token=token)
    # Lock the row: a browser that retries "complete" after a lost response must not queue
    # processing twice.
    media = MediaFile.objects.select_for_update().get(pk=grant.media.pk)
    if media.state != MediaFile.State.AWAITING_UPLOAD:
        return media  # completed already: answering again is harmless
    if not parts:
        raise UploadRejected("No parts were uploaded.", code="parts_missing")
    try:
        storage.multipart_complete(key=media.source_key, upload_id=grant.upload_id, parts=parts)
    except storage.PartsInvalid as error:
        raise UploadRejected(
            "Some parts of the file did not arrive intact. Try uploading again.",
            code="parts_invalid",
        ) from error
    except storage.ObjectMissing as error:
        # S3 forgets an upload once completed: a retried request finds the object instead.
        if storage.object_size(media.source_key) is None:
            raise NotFound("This upload was cancelled.", code="upload_not_found") from error
    size = storage.object_size(media.source_key) or 0
    refusal = _size_refusal(media=media, size=size, member=member)
    media.size_bytes = size
    fields = ["size_bytes", "state", "updated_at"]
    if refusal:
        media.state = MediaFile.State.FAILED
        media.error_message = refusal
        media.save(update_fields=[*fields, "error_message"])
        prefix = storage.media_prefix(media.public_id)
        transaction.on_commit(lambda: storage.delete_prefix(prefix=prefix))
        return media
    media.state = MediaFile.State.UPLOADED
    media.save(update_fields=fields)
    from learning.media import tasks

    media_id = media.pk
    transaction.on_commit(lambda: tasks.process_media.delay(media_id))
    return media


def _size_refusal(*, media: MediaFile, size: int, member: Membership | None) -> str | None:
    """Why the bytes that arrived cannot be kept, or None. Presigned part URLs cannot cap
    what a client sends, so the size declared at the start proves nothing."""
    if size == 0:
        return (
            "The file is empty (0 bytes): nothing was recorded, or it did not upload. "
            "Choose the file again or record a new take."
        )
    limit = settings.PRACTIKA_MAX_UPLOAD_BYTES
    if size > limit:
        return f"This file is {format_bytes(size)}; the limit is {format_bytes(limit)}."
    if size > media.declared_bytes:
        # The plan's storage quota counted the declared size: ask again for the difference.
        try:
            billing_services.check_upload_allowed(
                tenant=connection.tenant,
                size_bytes=size - media.declared_bytes,
                user=getattr(member, "user", None),
            )
        except LimitReached as error:
            return error.message
    return None


@transaction.atomic
def upload_abort(*, member: Membership | None, token: str) -> None:
    """Cancel an upload in progress: free its parts in storage and forget the media file."""
    grant = _own_grant(member=member, token=token)
    media = MediaFile.objects.select_for_update().get(pk=grant.media.pk)
    if media.state != MediaFile.State.AWAITING_UPLOAD:
        raise UploadRejected("This upload is already complete.", code="upload_finished")
    storage.multipart_abort(key=media.source_key, upload_id=grant.upload_id)
    Exercise.objects.filter(demo=media).update(demo=None)
    page_parts.bump()  # an update() sends no signal (learning.page_parts)
    media.delete()
