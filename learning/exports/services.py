"""Exports (issue 17): a tenant's whole data for its owners and admins, or a member's own
data for anyone, written by the task `learning.build_export` as one ZIP in private storage
(learning.exports.archive), announced by an email with a signed, short-lived download link.

Who may download: the member who asked, signed in on the tenant's host, while the link is
fresh (`PRACTIKA_EXPORT_LINK_SECONDS`) — and, for a tenant export, while still an owner or
admin. Each request, completion and download is recorded in the tenant's audit trail.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from learning import storage
from learning.errors import DomainError, PermissionDenied
from learning.exports.archive import ArchiveWriter
from learning.exports.sections import Scope, sections_for
from learning.models import Comment, Exercise, Export, MediaFile, Reply
from tenants import hosts
from tenants.models import ADMIN_ROLES, Membership
from tenants.services import audit

logger = logging.getLogger(__name__)

LINK_SALT = "practika.exports.download"
# How the work is counted for the progress bar: records first, then the files, then pages.
RECORDS_SHARE, FILES_SHARE = 10, 85
PROGRESS_EVERY_S = 1.0


class ExportLinkInvalid(DomainError):
    status_code = 410


def link_seconds() -> int:
    return settings.PRACTIKA_EXPORT_LINK_SECONDS


# --- Asking ---------------------------------------------------------------------------------


@transaction.atomic
def export_request(*, member: Membership, scope: str) -> Export:
    """Queue an export of `scope` for `member`; asking again while one is being made returns
    that one (the database allows one in progress per person and scope)."""
    if scope not in Export.Scope.values:
        raise DomainError("Choose what to export: tenant or personal.", code="invalid_scope")
    if scope == Export.Scope.TENANT and member.role not in ADMIN_ROLES:
        raise PermissionDenied(
            "Only the owner and admins can export the whole school or studio.",
            code="export_forbidden",
        )
    try:
        with transaction.atomic():
            export = Export.objects.create(scope=scope, requested_by=member.user)
    except IntegrityError:
        return Export.objects.get(
            requested_by=member.user,
            scope=scope,
            state__in=[Export.State.QUEUED, Export.State.RUNNING],
        )
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="export.requested",
        export=str(export.public_id),
        scope=scope,
    )
    from learning.exports import tasks

    transaction.on_commit(lambda: tasks.build_export.delay(export.pk))
    return export


# --- Writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaEntry:
    """Where one recording's files sit in the archive, and which of them a page plays."""

    media: MediaFile
    files: dict[str, str]  # storage key → archive path
    sizes: dict[str, int]

    @property
    def play(self) -> str | None:
        """The rendition a page plays (the original upload when there is none)."""
        renditions = [self.media.renditions.get(n) for n in ("720p", "360p", "audio")]
        playable = [self.files[k] for k in renditions if k in self.files]
        return playable[0] if playable else self.files.get(self.media.source_key)

    @property
    def poster(self) -> str | None:
        return self.files.get(self.media.poster_key) if self.media.poster_key else None


def _archive_name(media: MediaFile, key: str) -> str:
    rest = key.removeprefix(storage.media_prefix(media.public_id))
    if rest == "source":
        suffix = PurePosixPath(media.original_name).suffix.lower()
        rest = "original" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else "")
    return f"media/{media.public_id}/{rest}"


def _media_entries(scope: Scope) -> dict[int, MediaEntry]:
    # Only what naming and playing need: a waveform is thousands of numbers per recording.
    medias = (
        MediaFile.objects.filter(scope.own("owner"))
        .only(
            "pk",
            "public_id",
            "original_name",
            "source_key",
            "renditions",
            "poster_key",
            "has_video",
        )
        .order_by("pk")
    )
    by_public_id = {str(m.public_id): m for m in medias}
    media_root = f"{storage.tenant_prefix()}media/"
    if scope.personal:
        objects = itertools.chain.from_iterable(
            storage.list_objects(prefix=storage.media_prefix(m.public_id))
            for m in by_public_id.values()
        )
    else:
        objects = storage.list_objects(prefix=media_root)
    found: dict[str, dict[str, int]] = {}
    for item in objects:
        media_id, _, rest = item.key[len(media_root) :].partition("/")
        # Parts of an upload still in flight are not a file of the recording.
        if media_id in by_public_id and rest and ".upload-" not in rest:
            found.setdefault(media_id, {})[item.key] = item.size
    entries = {}
    for media_id, sizes in found.items():
        media = by_public_id[media_id]
        files = {key: _archive_name(media, key) for key in sorted(sizes)}
        entries[media.pk] = MediaEntry(media=media, files=files, sizes=sizes)
    return entries


class _Progress:
    """The share of the work done, written to the export's row at most once a second."""

    def __init__(self, export: Export, total_bytes: int):
        self.export = export
        self.total_bytes = max(total_bytes, 1)
        self.copied = 0
        self.percent = 0
        self.written_at = 0.0

    def set(self, percent: int, *, force: bool = False) -> None:
        percent = max(self.percent, min(99, percent))
        now = time.monotonic()
        if percent != self.percent and (force or now - self.written_at >= PROGRESS_EVERY_S):
            Export.objects.filter(pk=self.export.pk).update(
                progress=percent, updated_at=timezone.now()
            )
            self.written_at = now
            self.percent = percent

    def add_bytes(self, count: int) -> None:
        self.copied += count
        self.set(RECORDS_SHARE + FILES_SHARE * self.copied // self.total_bytes)


class _Counted:
    """Counts what passes to the storage stream (the archive's size)."""

    def __init__(self, out):
        self.out = out
        self.written = 0

    def write(self, data) -> int:
        self.written += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def export_key(export: Export) -> str:
    return f"{storage.tenant_prefix()}exports/{export.public_id}.zip"


def export_build(*, export_id: int) -> Export | None:
    """Write the export's ZIP (safe to run again: a rerun writes it afresh); None if the row
    is gone, the export unchanged if it is already ready."""
    export = Export.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None or export.state == Export.State.READY:
        return export
    export.state = Export.State.RUNNING
    export.progress = 0
    export.error_message = ""
    export.started_at = timezone.now()
    export.attempts += 1
    export.save(
        update_fields=["state", "progress", "error_message", "started_at", "attempts", "updated_at"]
    )
    tenant = connection.tenant
    scope = Scope(
        tenant=tenant, user=export.requested_by, personal=export.scope == Export.Scope.PERSONAL
    )
    sections = sections_for(scope)
    media = _media_entries(scope)
    progress = _Progress(export, sum(sum(e.sizes.values()) for e in media.values()))
    key = export_key(export)
    records = 0
    counts: dict[str, int] = {}
    with storage.open_write(key=key, content_type="application/zip") as stream:
        out = _Counted(stream)
        with ArchiveWriter(out, on_bytes=progress.add_bytes) as archive:
            for number, section in enumerate(sections, start=1):
                counts[section.name] = archive.section(section)
                records += counts[section.name]
                progress.set(RECORDS_SHARE * number // len(sections))
            for entry in media.values():
                for key_, name in list(entry.files.items()):
                    if not archive.stored_file(name, key=key_, size=entry.sizes[key_]):
                        del entry.files[key_]  # gone since the listing: the pages leave it out
            progress.set(RECORDS_SHARE + FILES_SHARE, force=True)
            pages = _write_pages(archive, scope=scope, media=media)
            context = {
                "tenant": tenant,
                "export": export,
                "scope": scope,
                "sections": sections,
                "counts": counts,
                "files": sum(len(e.files) for e in media.values()),
                "pages": pages,
            }
            for name in ("README.txt", "index.html"):
                archive.text(name, render_to_string(f"learning/exports/offline/{name}", context))
    export.state = Export.State.READY
    export.progress = 100
    export.key = key
    export.size_bytes = out.written
    export.records = records
    export.files = context["files"]
    export.finished_at = timezone.now()
    with transaction.atomic():
        if not Export.objects.select_for_update().filter(pk=export.pk).exists():
            # Its requester was deleted while it was written (learning.deletion): the ZIP goes.
            storage.delete_key(key=key)
            return None
        export.save(
            update_fields=[
                "state",
                "progress",
                "key",
                "size_bytes",
                "records",
                "files",
                "finished_at",
                "updated_at",
            ]
        )
        audit(
            actor=export.requested_by,
            tenant=tenant,
            action="export.completed",
            export=str(export.public_id),
            scope=export.scope,
            size_bytes=export.size_bytes,
        )
        from learning.exports import tasks

        # A task of its own: a mail server that is down is retried without writing again.
        transaction.on_commit(lambda: tasks.email_export_ready.delay(export.pk))
    return export


@dataclass(frozen=True)
class ReplyPage:
    reply: Reply
    media: MediaEntry | None
    comments: list[Comment]


@dataclass(frozen=True)
class ExercisePage:
    exercise: Exercise
    path: str
    demo: MediaEntry | None
    replies: list[ReplyPage]


@dataclass(frozen=True)
class IndexEntry:
    exercise: Exercise
    path: str
    replies: int


def _with_note(comment: Comment, media: dict[int, MediaEntry]) -> Comment:
    """The comment with its recorded note's files in the archive (`note`), if it has one."""
    comment.note = media.get(comment.media_id) if comment.media_id else None
    return comment


def _write_pages(archive: ArchiveWriter, *, scope: Scope, media: dict[int, MediaEntry]):
    """One page per exercise (its demonstration next to its replies, with their comments);
    returns what index.html lists. Each exercise is read and written before the next."""
    replies = Reply.objects.filter(scope.own("student"))
    exercises = (
        Exercise.objects.filter(pk__in=replies.values("exercise"))
        if scope.personal
        else (Exercise.objects.all())
    )
    listed = []
    for exercise in (
        exercises.select_related("created_by").order_by("title", "pk").iterator(chunk_size=200)
    ):
        comments = (
            Comment.objects.filter(scope.own("author"))
            .select_related("author")
            .order_by("at_ms", "created_at")
        )
        rows = (
            replies.filter(exercise=exercise)
            .select_related("student")
            .prefetch_related(Prefetch("comments", queryset=comments))
            .order_by("student__email", "attempt")
        )
        page = ExercisePage(
            exercise=exercise,
            path=f"exercises/{exercise.public_id}.html",
            # A personal export holds only the member's own recordings.
            demo=None if scope.personal else media.get(exercise.demo_id),
            replies=[
                ReplyPage(
                    reply=r,
                    media=media.get(r.media_id),
                    comments=[_with_note(c, media) for c in r.comments.all()],
                )
                for r in rows
            ],
        )
        archive.text(
            page.path,
            render_to_string(
                "learning/exports/offline/exercise.html", {"page": page, "scope": scope}
            ),
        )
        listed.append(IndexEntry(exercise=exercise, path=page.path, replies=len(page.replies)))
    return listed


def exports_expire(*, now=None) -> int:
    """Delete the ZIPs of exports finished more than `PRACTIKA_EXPORT_KEEP_DAYS` ago (their
    rows stay, marked expired, as the record that they were made)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PRACTIKA_EXPORT_KEEP_DAYS)
    expired = 0
    for export in Export.objects.filter(state=Export.State.READY, finished_at__lt=cutoff):
        storage.delete_key(key=export.key)
        export.state = Export.State.EXPIRED
        export.key = ""
        export.save(update_fields=["state", "key", "updated_at"])
        expired += 1
    return expired


def export_fail(*, export_id: int, message: str) -> None:
    Export.objects.filter(pk=export_id).update(
        state=Export.State.FAILED, error_message=message[:500], updated_at=timezone.now()
    )


# --- Telling and downloading ----------------------------------------------------------------


def download_token(export: Export) -> str:
    """A signed link token naming the export, its requester and the tenant; it expires."""
    payload = {
        "x": export.public_id.hex,
        "u": export.requested_by.public_id.hex,
        "t": connection.tenant.public_id.hex,
    }
    return signing.dumps(payload, salt=LINK_SALT)


def download_link(export: Export, *, api: bool = False) -> str:
    """The absolute address of the download page (or the API's download), with a fresh token."""
    name = "api-export-download" if api else "learning:export_download"
    path = reverse(name, args=[export.public_id])
    return hosts.tenant_url(connection.tenant.slug, f"{path}?token={download_token(export)}")


def export_email_send(*, export_id: int) -> None:
    """Email the requester that the export is ready, with the signed download link."""
    export = Export.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None or export.state != Export.State.READY:
        return
    tenant = connection.tenant
    context = {
        "export": export,
        "tenant": tenant,
        "link": download_link(export),
        "hours": max(1, link_seconds() // 3600),
    }
    send_mail(
        subject=f"Your Practika export of {tenant.name} is ready",
        message=render_to_string("learning/exports/email/ready.txt", context),
        from_email=None,
        recipient_list=[export.requested_by.email],
    )


def export_download_url(*, member: Membership, export: Export, token: str) -> str:
    """The short-lived storage URL of a ready export, for its requester holding a fresh link
    (ExportLinkInvalid otherwise); the download is recorded."""
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=link_seconds())
    except signing.SignatureExpired as error:
        raise ExportLinkInvalid(
            "This download link has expired. Open the export page for a fresh one.",
            code="link_expired",
        ) from error
    except signing.BadSignature as error:
        raise ExportLinkInvalid("This download link is not valid.", code="link_invalid") from error
    if (
        payload.get("x") != export.public_id.hex
        or payload.get("u") != member.user.public_id.hex
        or payload.get("t") != connection.tenant.public_id.hex
        or export.requested_by_id != member.user_id
    ):
        raise ExportLinkInvalid("This download link is not yours.", code="link_invalid")
    if export.scope == Export.Scope.TENANT and member.role not in ADMIN_ROLES:
        raise PermissionDenied(
            "Only the owner and admins can download the school's export.", code="export_forbidden"
        )
    if export.state == Export.State.EXPIRED:
        raise ExportLinkInvalid(
            f"This export was deleted {settings.PRACTIKA_EXPORT_KEEP_DAYS} days after it was "
            "made. Ask for a new one.",
            code="export_expired",
        )
    if export.state != Export.State.READY:
        raise DomainError("This export is not ready yet.", code="export_not_ready")
    # The one write behind a GET (the emailed link must be one): a record that the school's
    # data left, as an access log would keep; nothing the member sees changes.
    audit(
        actor=member.user,
        tenant=connection.tenant,
        action="export.downloaded",
        export=str(export.public_id),
        scope=export.scope,
    )
    filename = f"practika-{connection.tenant.slug}-{export.scope}-{export.created_at:%Y%m%d}.zip"
    return storage.download_url(
        key=export.key,
        filename=filename,
        content_type="application/zip",
        expires_s=settings.PRACTIKA_PLAYBACK_URL_EXPIRES_S,
    )
