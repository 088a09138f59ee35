"""The rubric and gradebook pages on a tenant's host: the school's or studio's rubric library,
the rubric editor (its script, templates/static/js/rubric_editor.js, saves through the API),
attaching a library rubric to an exercise (a copy), scoring a reply from the compare page's
panel (the form's fallback without scripts; compare/rubric.js saves through the API), and a
class's gradebook with its CSV. Views are thin: the services and selectors are the API's."""

from __future__ import annotations

import csv
import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from learning.errors import DomainError
from learning.exercises import selectors as exercise_selectors
from learning.models import Rubric
from learning.pages import found, id_path, teacher_page
from learning.replies import selectors as reply_selectors
from learning.rubrics import apis, selectors, services
from learning.templatetags.rubric_tags import points as _number

# A cell a spreadsheet would read as a formula (a student's name or an exercise's title can be
# anything), as the audit log's CSV (tenants/views/audit_log.py).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@teacher_page
def rubric_library(request: HttpRequest) -> HttpResponse:
    rubrics = selectors.rubrics_for_teacher(member=request.membership, library=True)
    return render(request, "learning/rubrics/library.html", {"rubrics": rubrics})


def _editor(request, *, rubric: Rubric | None, exercise=None) -> HttpResponse:
    if rubric is not None:
        initial = apis.RubricOut(rubric).data
        after = (
            reverse("learning:teacher_exercise", args=[rubric.exercise.public_id])
            if rubric.exercise
            else reverse("learning:rubric_library")
        )
        exercise = rubric.exercise
    else:
        initial = {"title": "", "description": "", "criteria": []}
        after = (
            reverse("learning:teacher_exercise", args=[exercise.public_id])
            if exercise
            else reverse("learning:rubric_library")
        )
    config = {
        "rubric": initial,
        "create": reverse("api-rubrics"),
        "update": reverse("api-rubric", args=[rubric.public_id]) if rubric else None,
        "exercise": str(exercise.public_id) if exercise else None,
        "after": after,
        "locked": bool(rubric and services.rubric_has_scores(rubric=rubric)),
    }
    return render(
        request,
        "learning/rubrics/editor.html",
        {"rubric": rubric, "exercise": exercise, "config": config, "locked": config["locked"]},
    )


@teacher_page
@require_GET
def rubric_new(request: HttpRequest) -> HttpResponse:
    exercise = None
    if public_id := request.GET.get("exercise"):
        exercise = found(
            lambda: exercise_selectors.exercise_get(member=request.membership, public_id=public_id)
        )
    return _editor(request, rubric=None, exercise=exercise)


@teacher_page
@require_GET
def rubric_edit(request: HttpRequest, public_id) -> HttpResponse:
    rubric = found(lambda: selectors.rubric_get(member=request.membership, public_id=public_id))
    return _editor(request, rubric=rubric)


@teacher_page
@require_POST
def rubric_to_library(request: HttpRequest, public_id) -> HttpResponse:
    """Copy a rubric into the library (an exercise's, to reuse it; or a template, to vary it)."""
    rubric = found(lambda: selectors.rubric_get(member=request.membership, public_id=public_id))
    copy = services.rubric_copy(member=request.membership, rubric=rubric)
    messages.success(request, f"A copy of “{copy.title}” is in the library.")
    return redirect("learning:rubric_edit", public_id=copy.public_id)


@teacher_page
@require_POST
def rubric_delete(request: HttpRequest, public_id) -> HttpResponse:
    rubric = found(lambda: selectors.rubric_get(member=request.membership, public_id=public_id))
    exercise = rubric.exercise
    try:
        services.rubric_delete(member=request.membership, rubric=rubric)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("learning:rubric_edit", public_id=rubric.public_id)
    messages.success(request, f"“{rubric.title}” is deleted.")
    if exercise is not None:
        return redirect("learning:teacher_exercise", public_id=exercise.public_id)
    return redirect("learning:rubric_library")


@teacher_page
@require_POST
def exercise_rubric_attach(request: HttpRequest, public_id) -> HttpResponse:
    """Attach a copy of a library rubric to the exercise."""
    member = request.membership
    exercise = found(lambda: exercise_selectors.exercise_get(member=member, public_id=public_id))
    template = selectors.library().filter(public_id__in=_uuids(request.POST.get("rubric"))).first()
    if template is None:
        messages.error(request, "Choose a rubric from the library.")
    else:
        try:
            services.rubric_copy(member=member, rubric=template, exercise=exercise)
            messages.success(request, f"“{template.title}” is the exercise's rubric (a copy).")
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("learning:teacher_exercise", public_id=exercise.public_id)


def _uuids(value) -> list[str]:
    try:
        return [str(uuid.UUID(str(value)))]
    except ValueError:
        return []


@require_POST
def reply_score(request: HttpRequest, public_id) -> HttpResponse:
    """The compare page's rubric panel without scripts: one radio per criterion."""
    member = request.membership
    reply = found(lambda: reply_selectors.reply_get(member=member, public_id=public_id))
    rubric = selectors.rubric_for_exercise(exercise=reply.exercise)
    if rubric is None:
        raise Http404("This exercise has no rubric.")
    scores = [
        services.ScoreData(
            criterion=c.public_id,
            level=next(iter(_uuids(request.POST.get(f"level-{c.public_id}"))), None),
            note=request.POST.get(f"note-{c.public_id}", "")[:2000],
        )
        for c in rubric.criteria.all()
        if request.POST.get(f"level-{c.public_id}")
    ]
    try:
        reply = services.reply_score(member=member, reply=reply, scores=scores)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Scored {_number(reply.score_given)} of {_number(reply.score_maximum)}."
        )
    return redirect("learning:compare", public_id=reply.public_id)


# --- The gradebook ------------------------------------------------------------------------


def _book(request, public_id):
    member = request.membership
    classroom = found(lambda: selectors.classroom_get(member=member, public_id=public_id))
    return found(lambda: selectors.gradebook(member=member, classroom=classroom))


@teacher_page
@require_GET
def gradebook(request: HttpRequest, public_id) -> HttpResponse:
    book = _book(request, public_id)
    compare = id_path("learning:compare")
    rows = []
    for row in book.rows:
        cells = [
            {
                "given": _number(cell.given),
                "maximum": _number(cell.maximum),
                "attempt": cell.reply.attempt if cell.reply else None,
                "url": compare(cell.reply.public_id) if cell.reply else "",
            }
            for cell in row.cells
        ]
        rows.append(
            {
                "student": row.student.display_name,
                "cells": cells,
                "total": _number(row.total_given),
                "maximum": _number(row.total_maximum),
                "percent": "" if row.percent is None else f"{row.percent}",
            }
        )
    return render(
        request,
        "learning/rubrics/gradebook.html",
        {"classroom": book.classroom, "exercises": book.exercises, "rows": rows},
    )


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@teacher_page
@require_GET
def gradebook_csv(request: HttpRequest, public_id) -> HttpResponse:
    """One row per student: each exercise's grade and its maximum (the latest scored attempt),
    then the total, its maximum and the percentage."""
    book = _book(request, public_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(book.classroom.name) or "class"
    response["Content-Disposition"] = f'attachment; filename="gradebook-{name}.csv"'
    writer = csv.writer(response)
    header = ["student", "email"]
    for exercise in book.exercises:
        header += [exercise.title, f"{exercise.title} (out of)"]
    header += ["total", "total out of", "percent"]
    writer.writerow([_cell(h) for h in header])
    for row in book.rows:
        line = [row.student.display_name, row.student.email]
        for cell in row.cells:
            line += [_number(cell.given), _number(cell.maximum)]
        percent = "" if row.percent is None else f"{row.percent}"
        line += [_number(row.total_given), _number(row.total_maximum), percent]
        writer.writerow([_cell(value) for value in line])
    return response
