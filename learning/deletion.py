"""learning's part of deleting data (tenants.services.deletion calls it through
`PRACTIKA_DATA_DELETION_HOOKS`): a purged tenant's stored objects, and a deleted member's
replies, recordings and comments.

What a deleted member leaves: their replies go with their recordings, alignments and the
comments on them (with those comments' recordings); their comments elsewhere are kept without
an author or deleted, as the school chose (`Tenant.member_comments_on_deletion`), and answers
others wrote to a deleted comment are kept (moved up to the top of the thread). Their own
recorded comments lose the recording (a voice or a face is not anonymous); one that was only a
recording is deleted. Exercises and classes a teacher made are the school's teaching material:
they stay, handed to an owner, with their demonstration recordings. Their exports go, rows and
ZIPs (only the member who asked can download one). Whatever else still names them loses the name
or goes, as its foreign key's `on_delete` says, so that nothing keeps the account alive.
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Q
from django_tenants.utils import tenant_context

from learning import page_parts, storage
from learning.feedback_library import services as feedback_library
from learning.media import cleanup
from learning.models import (
    ActivityEvent,
    Classroom,
    Comment,
    Course,
    Exercise,
    Export,
    MediaFile,
    PeerComment,
    PeerReview,
    Reply,
)
from tenants.models import CommentsOnDeletion, Membership, Role, User

logger = logging.getLogger(__name__)


def tenant_purge(*, tenant) -> dict[str, int]:
    """Delete every stored object under the tenant's folder (both backends), unfinished uploads
    included."""
    return {"stored_objects": storage.tenant_purge(tenant=tenant)}


def media_folder(media: MediaFile) -> str | None:
    return media.source_key.rsplit("/", 1)[0] + "/" if media.source_key else None


def stored_objects_delete_after_commit(prefixes: list[str]) -> None:
    """Delete these media folders once the rows are gone: at once if storage answers, else by
    the retried task (and, failing that, the daily sweep, which removes objects no row names)."""
    if not prefixes:
        return
    tenant = connection.tenant

    def delete() -> None:
        with tenant_context(tenant):
            try:
                cleanup.stored_objects_delete(prefixes=prefixes)
            except storage.StorageUnavailable:
                from learning.media import tasks

                tasks.delete_stored_objects.delay(prefixes)

    transaction.on_commit(delete)


def _heir(member: Membership):
    """Who takes over a departing teacher's exercises: another owner, else whoever deletes."""
    owner = (
        Membership.objects.filter(tenant=member.tenant, role=Role.OWNER)
        .exclude(user_id=member.user_id)
        .select_related("user")
        .first()
    )
    return owner.user if owner else None


def _exports_purge(user_id: int) -> int:
    """The member's exports, personal or the school's: the rows now, the ZIPs once they are gone
    (a school's export is downloaded only by whoever asked for it, so it goes with them)."""
    from learning.exports.services import export_key

    exports = list(Export.objects.filter(requested_by_id=user_id))
    if not exports:
        return 0
    # An export still being written has no key yet: its ZIP would land at export_key.
    keys = sorted({export.key or export_key(export) for export in exports})
    Export.objects.filter(pk__in=[export.pk for export in exports]).delete()
    tenant = connection.tenant

    def delete() -> None:
        with tenant_context(tenant):
            for key in keys:
                try:
                    storage.delete_key(key=key)
                except storage.StorageError:
                    logger.exception("the export %s of a deleted member was not deleted", key)

    transaction.on_commit(delete)
    return len(exports)


def _references_clear(user_id: int) -> int:
    """What else of learning names the member, as each foreign key's `on_delete` says: links
    (classes they taught) and rows that were theirs alone (an LMS identity, a roster entry)
    go, shared ones (a rubric they wrote, a score they gave) lose the name. A PROTECT left
    over keeps the account (tenants.services.deletion finds out and says so)."""
    cleared = 0
    for model in apps.get_app_config("learning").get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not (field.many_to_one and field.related_model is User):
                continue
            rows = model._base_manager.filter(**{field.attname: user_id})
            if field.remote_field.on_delete is models.CASCADE:
                cleared += rows.delete()[0]
            elif field.remote_field.on_delete is models.SET_NULL:
                cleared += rows.update(**{field.attname: None})
    return cleared


@transaction.atomic
def member_purge(*, member: Membership, comments: str) -> dict[str, int]:
    """Delete `member`'s replies and recordings in the current tenant, and their comments as
    `comments` says ("anonymise" or "delete"); runs inside the member's tenant."""
    user_id = member.user_id
    page_parts.bump()  # the bulk writes below send no signal
    replies = Reply.objects.filter(student_id=user_id)
    reply_media_ids = list(replies.values_list("media_id", flat=True))
    reply_ids = [str(pid) for pid in replies.values_list("public_id", flat=True)]
    reply_count = len(reply_ids)
    # Comments others wrote on these replies go with them (cascade); the member's own comments
    # elsewhere follow the policy.
    own = Comment.objects.filter(author_id=user_id).exclude(reply__student_id=user_id)
    # Recordings on the comments that go with the replies (teachers' voice and video notes);
    # the member's own recordings go below with the rest of what they own. A comment that was
    # only their recording has nothing left to keep, whatever the policy.
    comment_media_ids = list(
        Comment.objects.filter(reply__student_id=user_id)
        .exclude(media=None)
        .values_list("media_id", flat=True)
    )
    if comments == CommentsOnDeletion.DELETE:
        Comment.objects.filter(parent__in=own).exclude(author_id=user_id).update(parent=None)
        comment_count = own.delete()[0]
    else:
        bare = own.filter(body="").exclude(media=None)
        Comment.objects.filter(parent__in=bare).exclude(author_id=user_id).update(parent=None)
        comment_count = bare.delete()[0]
        comment_count += own.update(author=None)
    replies.delete()
    feedback_library.saved_comments_purge(user_id=user_id)

    heir = _heir(member)
    demo_ids = set(Exercise.objects.exclude(demo=None).values_list("demo_id", flat=True))
    handed_over = 0
    if heir is not None:
        handed_over = Exercise.objects.filter(created_by_id=user_id).update(created_by=heir)
        Course.objects.filter(created_by_id=user_id).update(created_by=heir)
        MediaFile.objects.filter(owner_id=user_id, pk__in=demo_ids).update(owner=heir)
    Reply.objects.filter(reviewed_by_id=user_id).update(reviewed_by=None)
    # Peer review: their tasks go; the comments they wrote follow the policy above.
    PeerReview.objects.filter(Q(reviewer_id=user_id) | Q(reviewee_id=user_id)).delete()
    PeerComment.objects.filter(hidden_by_id=user_id).update(hidden_by=None)
    Classroom.objects.filter(created_by_id=user_id).update(created_by=None)
    Classroom.students.through.objects.filter(user_id=user_id).delete()
    Exercise.assigned_students.through.objects.filter(user_id=user_id).delete()
    Course.assigned_students.through.objects.filter(user_id=user_id).delete()
    # The outbox: what they did and what was done to their replies (rollups are rebuilt from
    # what remains).
    events = ActivityEvent.objects.filter(
        Q(actor_id=user_id) | Q(data__reply__in=reply_ids) | Q(data__student_id=user_id)
    ).delete()[0]

    media = list(
        MediaFile.objects.filter(pk__in=reply_media_ids + comment_media_ids)
        | MediaFile.objects.filter(owner_id=user_id).exclude(pk__in=demo_ids)
    )
    prefixes = [p for p in (media_folder(m) for m in media) if p]
    MediaFile.objects.filter(pk__in=[m.pk for m in media]).delete()
    stored_objects_delete_after_commit(prefixes)
    exports = _exports_purge(user_id)
    cleared = _references_clear(user_id)
    return {
        "replies": reply_count,
        "comments": comment_count,
        "recordings": len(media),
        "activity_events": events,
        "exercises_handed_over": handed_over,
        "exports": exports,
        "other_rows": cleared,
    }
