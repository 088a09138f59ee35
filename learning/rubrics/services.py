"""Writes of rubrics and grades: a rubric built or edited (a library template or an exercise's
own), copied (attaching a library rubric to an exercise copies it), deleted, and a reply
scored against its exercise's rubric.

The grade has one home, `Reply.score_given` of `Reply.score_maximum`: a rubric's scores fill
it with the sum of the picked levels' points out of the sum of each criterion's best level,
and, as a review does, queue the LMS grade passback (learning.lti).

A rubric with scores keeps its structure: its wording may change, but not its criteria, levels
or points (graded work would otherwise change under the student, or a score lose its level).
To change more, a teacher copies it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from learning import activity, roles
from learning.errors import DomainError
from learning.lti import services as lti_services
from learning.models import (
    Exercise,
    Reply,
    Rubric,
    RubricCriterion,
    RubricLevel,
    RubricScore,
)
from tenants.models import Membership
from tenants.services import audit

MAX_CRITERIA = 30
MAX_LEVELS = 10
MAX_POINTS = Decimal("10000")


@dataclass(frozen=True)
class LevelData:
    title: str
    points: Decimal
    description: str = ""
    public_id: object | None = None


@dataclass(frozen=True)
class CriterionData:
    title: str
    levels: list[LevelData] = field(default_factory=list)
    description: str = ""
    public_id: object | None = None


@dataclass(frozen=True)
class ScoreData:
    criterion: object  # the criterion's public_id
    level: object  # the level's public_id
    note: str = ""


# --- Checks -------------------------------------------------------------------------------


def _points(value) -> Decimal:
    try:
        points = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise DomainError("Points must be a number.", code="points_invalid") from error
    if not points.is_finite() or points < 0 or points > MAX_POINTS:
        raise DomainError(f"Points go from 0 to {MAX_POINTS}.", code="points_invalid")
    if points != points.quantize(Decimal("0.01")):
        raise DomainError("Points have at most two decimals.", code="points_invalid")
    return points


def _clean(title: str, criteria: list[CriterionData]) -> tuple[str, list[CriterionData]]:
    title = (title or "").strip()
    if not title:
        raise DomainError("Give the rubric a title.", code="title_required")
    if not criteria:
        raise DomainError("A rubric needs at least one criterion.", code="criteria_required")
    if len(criteria) > MAX_CRITERIA:
        raise DomainError(f"A rubric has at most {MAX_CRITERIA} criteria.", code="too_many")
    cleaned = []
    for number, criterion in enumerate(criteria, start=1):
        name = (criterion.title or "").strip()
        if not name:
            raise DomainError(f"Criterion {number} needs a title.", code="criterion_title_required")
        if not criterion.levels:
            raise DomainError(f"“{name}” needs at least one level.", code="levels_required")
        if len(criterion.levels) > MAX_LEVELS:
            raise DomainError(f"“{name}” has more than {MAX_LEVELS} levels.", code="too_many")
        levels = []
        for place, level in enumerate(criterion.levels, start=1):
            label = (level.title or "").strip()
            if not label:
                raise DomainError(
                    f"Level {place} of “{name}” needs a title.", code="level_title_required"
                )
            levels.append(
                LevelData(
                    title=label[:200],
                    points=_points(level.points),
                    description=(level.description or "").strip()[:2000],
                    public_id=level.public_id,
                )
            )
        cleaned.append(
            CriterionData(
                title=name[:200],
                levels=levels,
                description=(criterion.description or "").strip()[:2000],
                public_id=criterion.public_id,
            )
        )
    if sum(max(level.points for level in c.levels) for c in cleaned) <= 0:
        raise DomainError(
            "The best levels give no points: a rubric must be out of more than 0.",
            code="maximum_zero",
        )
    return title[:200], cleaned


def rubric_has_scores(*, rubric: Rubric) -> bool:
    return RubricScore.objects.filter(criterion__rubric=rubric).exists()


def _require_unscored(rubric: Rubric, doing: str) -> None:
    if rubric_has_scores(rubric=rubric):
        raise DomainError(
            f"Replies are already scored with this rubric, so you cannot {doing}. Copy it to "
            "make a new one.",
            code="rubric_in_use",
        )


# --- Rubrics ------------------------------------------------------------------------------


def _build(rubric: Rubric, criteria: list[CriterionData]) -> None:
    for position, criterion in enumerate(criteria):
        row = RubricCriterion.objects.create(
            rubric=rubric,
            position=position,
            title=criterion.title,
            description=criterion.description,
        )
        for place, level in enumerate(criterion.levels):
            RubricLevel.objects.create(
                criterion=row,
                position=place,
                title=level.title,
                description=level.description,
                points=level.points,
            )


def _lock_exercise(exercise: Exercise) -> None:
    # Two attaches at once would both find no rubric; the row lock orders them.
    Exercise.objects.select_for_update().filter(pk=exercise.pk).first()


@transaction.atomic
def rubric_create(
    *,
    member: Membership,
    title: str,
    criteria: list[CriterionData],
    description: str = "",
    exercise: Exercise | None = None,
) -> Rubric:
    """A new rubric: the exercise's own, or (without an exercise) a template in the library."""
    roles.require_teacher(member)
    title, criteria = _clean(title, criteria)
    if exercise is not None:
        _lock_exercise(exercise)
        if Rubric.objects.filter(exercise=exercise).exists():
            raise DomainError(
                "This exercise already has a rubric: edit it, or delete it first.",
                code="rubric_exists",
            )
    rubric = Rubric.objects.create(
        title=title,
        description=(description or "").strip()[:4000],
        is_template=exercise is None,
        exercise=exercise,
        created_by=member.user,
    )
    _build(rubric, criteria)
    return rubric


def _same_structure(rubric: Rubric, criteria: list[CriterionData]) -> bool:
    existing = {
        c.public_id: {level.public_id: level.points for level in c.levels.all()}
        for c in rubric.criteria.prefetch_related("levels")
    }
    proposed = {
        c.public_id: {level.public_id: level.points for level in c.levels} for c in criteria
    }
    return existing == proposed


@transaction.atomic
def rubric_update(
    *,
    member: Membership,
    rubric: Rubric,
    title: str,
    criteria: list[CriterionData],
    description: str = "",
) -> Rubric:
    """Replace a rubric's content. Criteria and levels named by their public_id are kept (and
    renamed); the others are new, and the missing ones go. With scores, only the wording may
    change (`rubric_in_use`)."""
    roles.require_teacher(member)
    title, criteria = _clean(title, criteria)
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    criteria_rows = {c.public_id: c for c in rubric.criteria.all()}
    level_rows = {
        level.public_id: level for level in RubricLevel.objects.filter(criterion__rubric=rubric)
    }
    for criterion in criteria:
        if criterion.public_id is not None and criterion.public_id not in criteria_rows:
            raise DomainError(
                "A criterion named here is not one of this rubric's.", code="criterion_invalid"
            )
        for level in criterion.levels:
            if level.public_id is None:
                continue
            row = level_rows.get(level.public_id)
            owner = criteria_rows.get(criterion.public_id) if criterion.public_id else None
            if row is None or owner is None or row.criterion_id != owner.pk:
                raise DomainError(
                    f"A level of “{criterion.title}” named here is not one of its levels.",
                    code="level_invalid",
                )
    if rubric_has_scores(rubric=rubric) and not _same_structure(rubric, criteria):
        raise DomainError(
            "Replies are already scored with this rubric: you can change its wording, but not "
            "add or remove criteria or levels or change points. Copy it to make a new one.",
            code="rubric_in_use",
        )
    rubric.title = title
    rubric.description = (description or "").strip()[:4000]
    rubric.save(update_fields=["title", "description", "updated_at"])
    kept_criteria, kept_levels = set(), set()
    for position, criterion in enumerate(criteria):
        row = criteria_rows.get(criterion.public_id) if criterion.public_id else None
        if row is None:
            row = RubricCriterion(rubric=rubric)
        row.position, row.title, row.description = position, criterion.title, criterion.description
        row.save()
        kept_criteria.add(row.pk)
        for place, level in enumerate(criterion.levels):
            level_row = level_rows.get(level.public_id) if level.public_id else None
            if level_row is None:
                level_row = RubricLevel(criterion=row)
            level_row.position, level_row.title = place, level.title
            level_row.description, level_row.points = level.description, level.points
            level_row.save()
            kept_levels.add(level_row.pk)
    RubricLevel.objects.filter(criterion__rubric=rubric).exclude(pk__in=kept_levels).delete()
    RubricCriterion.objects.filter(rubric=rubric).exclude(pk__in=kept_criteria).delete()
    return rubric


@transaction.atomic
def rubric_delete(*, member: Membership, rubric: Rubric) -> None:
    """Delete a library template, or take a rubric off its exercise (only while unscored)."""
    roles.require_teacher(member)
    _require_unscored(rubric, "delete it")
    rubric.delete()


@transaction.atomic
def rubric_copy(*, member: Membership, rubric: Rubric, exercise: Exercise | None = None) -> Rubric:
    """Copy a rubric onto an exercise (replacing the exercise's unscored rubric) or, without an
    exercise, into the library. The copy is independent: editing one never changes the other."""
    roles.require_teacher(member)
    if exercise is not None:
        _lock_exercise(exercise)
        current = Rubric.objects.filter(exercise=exercise).first()
        if current is not None and current.pk == rubric.pk:
            raise DomainError("This is already the exercise's rubric.", code="rubric_same")
        if current is not None:
            _require_unscored(current, "replace the exercise's rubric")
            current.delete()
    criteria = [
        CriterionData(
            title=c.title,
            description=c.description,
            levels=[
                LevelData(title=level.title, description=level.description, points=level.points)
                for level in c.levels.all()
            ],
        )
        for c in rubric.criteria.prefetch_related("levels")
    ]
    copy = Rubric.objects.create(
        title=rubric.title,
        description=rubric.description,
        is_template=exercise is None,
        exercise=exercise,
        copied_from=rubric,
        created_by=member.user,
    )
    _build(copy, criteria)
    return copy


# --- Scores -------------------------------------------------------------------------------


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


@transaction.atomic
def reply_score(*, member: Membership, reply: Reply, scores: list[ScoreData]) -> Reply:
    """Score a reply with its exercise's rubric: one level per criterion, each with an
    optional note. The sum fills the reply's grade; scoring marks it reviewed and sends the
    grade to the LMS as a review does."""
    roles.require_teacher(member)
    rubric = Rubric.objects.filter(exercise_id=reply.exercise_id).first()
    if rubric is None:
        raise DomainError("This exercise has no rubric to score with.", code="no_rubric")
    criteria = {c.public_id: c for c in rubric.criteria.prefetch_related("levels")}
    picked: dict[int, tuple[RubricCriterion, RubricLevel, str]] = {}
    for score in scores:
        criterion = criteria.get(_uuid(score.criterion))
        if criterion is None:
            raise DomainError(
                "A criterion named here is not one of this exercise's rubric.",
                code="criterion_invalid",
            )
        if criterion.pk in picked:
            raise DomainError(
                f"“{criterion.title}” is scored twice: pick one level.", code="criterion_repeated"
            )
        level_id = _uuid(score.level)
        level = next((lv for lv in criterion.levels.all() if lv.public_id == level_id), None)
        if level is None:
            raise DomainError(
                f"That level is not one of “{criterion.title}”'s levels.", code="level_mismatch"
            )
        note = (score.note or "").strip()
        if len(note) > 2000:
            raise DomainError("Keep each note under 2000 characters.", code="note_too_long")
        picked[criterion.pk] = (criterion, level, note)
    missing = [c.title for c in criteria.values() if c.pk not in picked]
    if missing:
        raise DomainError(
            f"Pick a level for every criterion (missing: {', '.join(missing)}).",
            code="criteria_missing",
        )
    student_email = reply.student.email
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    RubricScore.objects.filter(reply=reply).delete()
    for criterion, level, note in picked.values():
        RubricScore.objects.create(
            reply=reply, criterion=criterion, level=level, note=note, scored_by=member.user
        )
    given = sum((level.points for _, level, _ in picked.values()), Decimal(0))
    maximum = sum((max(lv.points for lv in c.levels.all()) for c in criteria.values()), Decimal(0))
    reply.score_given, reply.score_maximum = float(given), float(maximum)
    reply.status = Reply.Status.REVIEWED
    reply.reviewed_at = timezone.now()
    reply.reviewed_by = member.user
    reply.save(
        update_fields=[
            "status",
            "reviewed_at",
            "reviewed_by",
            "score_given",
            "score_maximum",
            "updated_at",
        ]
    )
    lti_services.score_queue(reply=reply)
    # Who set a grade, and to what, is a question a school asks later (the audit log).
    audit(
        actor=member.user,
        tenant=member.tenant,
        action="grade.scored",
        reply=str(reply.public_id),
        student=student_email,
        score=f"{given.normalize():f} of {maximum.normalize():f}",
    )
    activity.emit(
        kind="feedback_given",
        member=member,
        reply=reply.public_id,
        student_id=reply.student_id,
        status=reply.status,
    )
    return reply
