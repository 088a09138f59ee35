"""Whether a student may open and reply to an exercise of a course: the one gate that the
exercise page, the exercise API, reply creation and the start of a reply's upload all ask.

An exercise is locked for a student while its course item's release date is in the future, or
while its prerequisite (another item of the course) is not done: the student has not sent a
reply to it (a reply whose recording failed is a draft and does not count), or, when the item
asks for a review, no reply to it has been reviewed ("try again" is not done). Teachers are
never gated; an exercise in no course is always open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from learning import roles
from learning.errors import PermissionDenied
from learning.models import CourseItem, Exercise, MediaFile, Reply
from learning.querysets import unique_or_none
from tenants.models import Membership


class ExerciseLocked(PermissionDenied):
    """A 403 with the reason and, for a release date, when it opens."""


@dataclass(frozen=True)
class Lock:
    reason: str  # "not_released" or "prerequisite"
    message: str  # "This exercise opens on 3 March." / "… after you send a reply to “Scales”."
    short: str  # "opens on 3 March" / "after “Scales”", for a course path's row
    opens_at: datetime | None = None


@dataclass(frozen=True)
class Progress:
    """What a student has done, by exercise id: sent a reply to, had a reply reviewed."""

    replied: frozenset[int]
    reviewed: frozenset[int]

    def done(self, exercise_id: int, requires: str = CourseItem.Requires.REPLY) -> bool:
        if requires == CourseItem.Requires.REVIEW:
            return exercise_id in self.reviewed
        return exercise_id in self.replied


def progress_of(*, student, exercise_ids: Iterable[int]) -> Progress:
    """The student's progress on these exercises, in one query."""
    replied, reviewed = set(), set()
    rows = (
        Reply.objects.filter(student=student, exercise_id__in=list(exercise_ids))
        .exclude(media__state=MediaFile.State.FAILED)
        .order_by()
        .values_list("exercise_id", "status")
        .distinct()
    )
    for exercise_id, status in rows:
        replied.add(exercise_id)
        if status == Reply.Status.REVIEWED:
            reviewed.add(exercise_id)
    return Progress(replied=frozenset(replied), reviewed=frozenset(reviewed))


def opens_on(moment: datetime, *, now: datetime) -> str:
    """Like "3 March": with the year when not this year's, the time when not midnight."""
    local, today = timezone.localtime(moment), timezone.localtime(now)
    text = f"{local.day} {local:%B}"
    if local.year != today.year:
        text += f" {local.year}"
    if (local.hour, local.minute) != (0, 0):
        text += f" at {local:%H:%M}"
    return text


def item_lock(item: CourseItem, *, progress: Progress, now: datetime) -> Lock | None:
    """Why `item` is locked for the student whose `progress` this is, or None when it is open.
    Reads `item.prerequisite.exercise` (select it with the item)."""
    if item.release_at is not None and item.release_at > now:
        when = opens_on(item.release_at, now=now)
        return Lock(
            reason="not_released",
            message=f"This exercise opens on {when}.",
            short=f"opens on {when}",
            opens_at=item.release_at,
        )
    before = item.prerequisite
    if before is not None and not progress.done(before.exercise_id, item.requires):
        title = before.exercise.title
        if item.requires == CourseItem.Requires.REVIEW:
            message = f"This exercise opens once your reply to “{title}” has been reviewed."
            short = f"after “{title}” is reviewed"
        else:
            message = f"This exercise opens after you send a reply to “{title}”."
            short = f"after “{title}”"
        return Lock(reason="prerequisite", message=message, short=short)
    return None


def exercise_lock(*, member: Membership, exercise: Exercise) -> Lock | None:
    """Why `member` may not open `exercise` now, or None: no query for an exercise read with its
    course item (as `exercise_get` reads it) and in no course, one more behind a prerequisite."""
    if roles.is_teacher(member):
        return None
    if Exercise.course_item.is_cached(exercise):  # read with it (exercise_get): no query
        try:
            item = exercise.course_item
        except CourseItem.DoesNotExist:
            return None
    else:
        item = unique_or_none(
            CourseItem.objects.select_related("prerequisite__exercise").filter(exercise=exercise)
        )
        if item is None:
            return None
    now = timezone.now()
    needed = [item.prerequisite.exercise_id] if item.prerequisite is not None else []
    progress = (
        progress_of(student=member.user, exercise_ids=needed)
        if needed and (item.release_at is None or item.release_at <= now)
        else Progress(replied=frozenset(), reviewed=frozenset())
    )
    return item_lock(item, progress=progress, now=now)


def locks_for(*, student, exercise_ids: Iterable[int]) -> dict[int, Lock]:
    """The locks of these exercises for `student`, by exercise id (open ones are left out), in
    two queries whatever their number."""
    items = list(
        CourseItem.objects.filter(exercise_id__in=list(exercise_ids)).select_related(
            "prerequisite__exercise"
        )
    )
    needed = {i.prerequisite.exercise_id for i in items if i.prerequisite is not None}
    progress = progress_of(student=student, exercise_ids=needed)
    now = timezone.now()
    locks = {i.exercise_id: item_lock(i, progress=progress, now=now) for i in items}
    return {exercise_id: lock for exercise_id, lock in locks.items() if lock is not None}


def require_open(*, member: Membership, exercise: Exercise) -> None:
    """Raise ExerciseLocked (403, `exercise_locked`) when `exercise` is locked for `member`."""
    lock = exercise_lock(member=member, exercise=exercise)
    if lock is not None:
        raise ExerciseLocked(lock.message, code="exercise_locked")
