"""A teacher's copy of an exercise or a course into another school where they teach, with its
demonstration recordings (the work of the task `learning.copy_to_tenant`).

It runs in the source school's schema, where the request was made: it reads what to copy into
plain data, then enters the target's schema and writes new rows there, each recording as a new
MediaFile whose stored objects are copied (server-side in S3 mode) under the target's
`tenants/<uuid>/media/<new id>/` folder. Nothing of the source is changed. The copy is assigned
to nobody; an exercise copied alone arrives as a draft. Only ready recordings are copied (one
still processing has nothing final to copy; the copy then has no demonstration).

Safe to run twice: a copy that is done or failed is not run again. Objects copied before a
failure that rolled the target's rows back are orphans, which the daily media sweep removes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import services as billing_services
from learning import page_parts, storage
from learning.models import Course, CourseCopy, CourseItem, CourseUnit, Exercise, MediaFile
from tenants.models import TEACHING_ROLES, Membership, Tenant

MEDIA_FIELDS = (
    "original_name", "declared_bytes", "size_bytes", "duration_s", "has_video", "has_audio",
    "width", "height", "waveform", "processed_at",
)  # fmt: skip
EXERCISE_FIELDS = ("title", "instructions", "instrument", "tags", "due_at")


@dataclass
class _Item:
    source_pk: int
    exercise: dict
    status: str
    demo_pk: int | None
    position: int = 0
    release_at: object = None
    requires: str = CourseItem.Requires.REPLY
    prerequisite_pk: int | None = None


@dataclass
class _Unit:
    title: str
    position: int
    items: list[_Item] = field(default_factory=list)


@dataclass
class _Snapshot:
    course: dict | None
    units: list[_Unit]
    media: dict[int, MediaFile]


def _exercise_data(exercise: Exercise) -> dict:
    return {name: getattr(exercise, name) for name in EXERCISE_FIELDS}


def _ready_demo(exercise: Exercise) -> int | None:
    demo = exercise.demo
    return demo.pk if demo is not None and demo.state == MediaFile.State.READY else None


def _snapshot(copy: CourseCopy) -> _Snapshot:
    """What to copy, read in the source's schema."""
    if copy.exercise_id is not None:
        exercise = Exercise.objects.select_related("demo").get(pk=copy.exercise_id)
        item = _Item(
            source_pk=0,
            exercise=_exercise_data(exercise),
            status=Exercise.Status.DRAFT,
            demo_pk=_ready_demo(exercise),
        )
        media = {exercise.demo.pk: exercise.demo} if item.demo_pk else {}
        return _Snapshot(
            course=None, units=[_Unit(title="", position=0, items=[item])], media=media
        )
    course = Course.objects.get(pk=copy.course_id)
    units = {u.pk: _Unit(title=u.title, position=u.position) for u in course.units.all()}
    media: dict[int, MediaFile] = {}
    items = (
        CourseItem.objects.filter(unit__course=course)
        .select_related("exercise__demo")
        .order_by("unit__position", "unit__pk", "position", "pk")
    )
    for item in items:
        demo_pk = _ready_demo(item.exercise)
        if demo_pk:
            media[demo_pk] = item.exercise.demo
        units[item.unit_id].items.append(
            _Item(
                source_pk=item.pk,
                exercise=_exercise_data(item.exercise),
                status=item.exercise.status,
                demo_pk=demo_pk,
                position=item.position,
                release_at=item.release_at,
                requires=item.requires,
                prerequisite_pk=item.prerequisite_id,
            )
        )
    return _Snapshot(
        course={"title": course.title, "description": course.description},
        units=sorted(units.values(), key=lambda u: u.position),
        media=media,
    )


def _rekey(key: str, old_prefix: str, new_prefix: str) -> str:
    return new_prefix + key[len(old_prefix) :] if key.startswith(old_prefix) else ""


def _copy_media(source: MediaFile, *, source_tenant: Tenant, owner) -> MediaFile:
    """A new MediaFile in the current (target) schema, its objects copied from the source's."""
    media = MediaFile(
        public_id=uuid.uuid4(), owner=owner, purpose=MediaFile.Purpose.DEMONSTRATION,
        state=MediaFile.State.READY, **{name: getattr(source, name) for name in MEDIA_FIELDS},
    )  # fmt: skip
    old = f"{storage.tenant_prefix(source_tenant)}media/{source.public_id}/"
    new = storage.media_prefix(media.public_id)
    storage.copy_prefix(source_prefix=old, source_tenant=source_tenant, prefix=new)
    media.source_key = _rekey(source.source_key, old, new)
    media.poster_key = _rekey(source.poster_key, old, new)
    media.renditions = {
        name: _rekey(key, old, new) for name, key in (source.renditions or {}).items()
    }
    media.save()
    return media


def _apply(snapshot: _Snapshot, *, source_tenant: Tenant, owner) -> tuple[uuid.UUID, int]:
    """Write the copy in the current (target) schema; returns its public id and media count."""
    items = [item for unit in snapshot.units for item in unit.items]
    billing_services.check_can_create_exercise(
        tenant=connection.tenant, current_count=Exercise.objects.count() + len(items) - 1
    )
    media = {
        pk: _copy_media(m, source_tenant=source_tenant, owner=owner)
        for pk, m in snapshot.media.items()
    }
    now = timezone.now()
    exercises = {}
    for item in items:
        exercise = Exercise.objects.create(
            **item.exercise, demo=media.get(item.demo_pk), status=item.status,
            published_at=now if item.status == Exercise.Status.PUBLISHED else None,
            assign_to_all=snapshot.course is None, created_by=owner,
        )  # fmt: skip
        exercises[item.source_pk] = exercise
    if snapshot.course is None:
        return exercises[0].public_id, len(media)
    course = Course.objects.create(**snapshot.course, created_by=owner)
    new_items: dict[int, CourseItem] = {}
    for unit in snapshot.units:
        new_unit = CourseUnit.objects.create(
            course=course, title=unit.title, position=unit.position
        )
        for item in unit.items:
            new_items[item.source_pk] = CourseItem.objects.create(
                unit=new_unit, exercise=exercises[item.source_pk], position=item.position,
                release_at=item.release_at, requires=item.requires,
            )  # fmt: skip
    for item in items:
        if item.prerequisite_pk in new_items:
            new = new_items[item.source_pk]
            new.prerequisite = new_items[item.prerequisite_pk]
            new.save(update_fields=["prerequisite"])
    return course.public_id, len(media)


def copy_run(*, copy_id: int) -> CourseCopy | None:
    """Make the copy `copy_id` asked for (in the source's schema); idempotent."""
    copy = CourseCopy.objects.select_related("requested_by").filter(pk=copy_id).first()
    if copy is None or copy.state != CourseCopy.State.QUEUED:
        return copy
    source_tenant = connection.tenant
    target = Tenant.objects.filter(public_id=copy.target_tenant_id).first()
    teaches = (
        target is not None
        and Membership.objects.filter(
            user=copy.requested_by, tenant=target, role__in=TEACHING_ROLES
        ).exists()
    )
    if not teaches:
        copy_fail(copy_id=copy_id, message="You no longer teach at that school.")
        return copy
    snapshot = _snapshot(copy)
    with tenant_context(target), transaction.atomic():
        result_id, media_count = _apply(
            snapshot, source_tenant=source_tenant, owner=copy.requested_by
        )
        page_parts.bump()
    copy.state = CourseCopy.State.DONE
    copy.result_public_id = result_id
    copy.media_copied = media_count
    copy.finished_at = timezone.now()
    copy.save(
        update_fields=["state", "result_public_id", "media_copied", "finished_at", "updated_at"]
    )
    return copy


def copy_fail(*, copy_id: int, message: str) -> None:
    """Record why a copy could not be made (shown on the course or exercise page)."""
    copy = CourseCopy.objects.filter(pk=copy_id, state=CourseCopy.State.QUEUED).first()
    if copy is None:
        return
    copy.state = CourseCopy.State.FAILED
    copy.error_message = message[:500]
    copy.finished_at = timezone.now()
    copy.save(update_fields=["state", "error_message", "finished_at", "updated_at"])
