"""The rubric's parts on pages other features own (one `{% load %}` and one tag each): the
teacher's exercise page, the student's exercise page (the rubric before recording) and the
compare page's scoring panel (templates/learning/compare/_rubric.html)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from learning import page_parts
from learning.rubrics import selectors, services

register = template.Library()


def _rubric_of(exercise):
    # The rubric with its criteria and levels, per version of the rows (learning.page_parts).
    return page_parts.value(
        f"rubric:{exercise.pk}", lambda: selectors.rubric_for_exercise(exercise=exercise)
    )


def _maximum(rubric) -> float:
    return float(
        sum(max((lv.points for lv in c.levels.all()), default=0) for c in rubric.criteria.all())
    )


@register.inclusion_tag("learning/rubrics/_exercise_card.html", takes_context=True)
def exercise_rubric_card(context, exercise):
    """Teachers: the exercise's rubric, its editor's link, and attaching one from the library."""
    rubric = selectors.rubric_for_exercise(exercise=exercise)
    return {
        "csrf_token": context.get("csrf_token"),
        "exercise": exercise,
        "rubric": rubric,
        "maximum": _maximum(rubric) if rubric else None,
        "scored": bool(rubric and services.rubric_has_scores(rubric=rubric)),
        "library": list(selectors.library().values("public_id", "title")),
    }


@register.inclusion_tag("learning/rubrics/_student_rubric.html")
def student_rubric(exercise):
    """Students: how the teacher will judge the reply, before recording."""
    rubric = _rubric_of(exercise)
    return {"rubric": rubric, "maximum": _maximum(rubric) if rubric else None}


@register.inclusion_tag("learning/compare/_rubric.html", takes_context=True)
def rubric_panel(context, reply, is_teacher):
    """The compare page's panel: the teacher picks a level per criterion; the student sees the
    scores once saved."""
    rubric = _rubric_of(reply.exercise)
    if rubric is None:
        return {"rubric": None}
    scores = {s.criterion_id: s for s in selectors.scores_for_reply(reply=reply)}
    criteria = [
        {"criterion": c, "levels": list(c.levels.all()), "score": scores.get(c.pk)}
        for c in rubric.criteria.all()
    ]
    return {
        "csrf_token": context.get("csrf_token"),
        "rubric": rubric,
        "reply": reply,
        "criteria": criteria,
        "scored": bool(scores),
        "is_teacher": is_teacher,
        "maximum": _maximum(rubric),
    }


@register.filter
def points(value) -> str:
    """Points as people write them: 7, 7.5, 7.25 (never 7.50)."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
