"""The exercise pages on a tenant's host: teachers' exercises and classes; students' exercises
(where a student sends a reply).

Views are thin: they parse input, call the same services and selectors as the REST API, and
render. Membership is already enforced for every page by tenants.middleware; the decorators
here add the role. A selector's NotFound becomes a 404, a service's DomainError is shown on
the page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from learning import page_parts
from learning.coteachers import selectors as coteacher_selectors
from learning.coteachers import services as coteacher_services
from learning.courses import gates
from learning.errors import DomainError
from learning.exercises import selectors, services
from learning.forms import ClassroomForm, ExerciseForm, ReplyForm
from learning.models import Classroom, Exercise, MediaFile, Reply
from learning.pages import (
    found,
    id_path,
    media_sources,
    media_state,
    short_date,
    student_page,
    teacher_page,
)
from learning.peer_review import services as peer_review_services
from learning.replies import selectors as reply_selectors
from learning.replies import services as reply_services
from learning.uploads import services as upload_services
from tenants import selectors as tenant_selectors
from tenants.page_cache import cached_page

# --- Helpers for the forms ----------------------------------------------------------------


def _student_choices(request) -> list[tuple[str, str]]:
    members = tenant_selectors.members_for_tenant(tenant=request.tenant, role="student")
    return [
        (str(m.user.public_id), f"{m.user.display_name} ({m.user.email})")
        for m in members.select_related("user")
    ]


def _student_ids(request, public_ids) -> list[int]:
    from tenants.models import User

    return list(User.objects.filter(public_id__in=public_ids).values_list("pk", flat=True))


def _teacher_choices() -> list[tuple[str, str]]:
    return [
        (str(m.user.public_id), f"{m.user.display_name} ({m.user.email})")
        for m in coteacher_selectors.teaching_members()
    ]


def _class_choices() -> list[tuple[str, str]]:
    return [(str(c.public_id), c.name) for c in Classroom.objects.order_by("name")]


# --- Teacher: exercises -------------------------------------------------------------------


@teacher_page
@cached_page(page_parts.VERSION_KEY)
def exercise_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Exercise.Status.values:
        status = ""

    def rendered() -> str:
        exercises = selectors.exercises_for_teacher(member=request.membership)
        if status:
            exercises = exercises.filter(status=status)
        return render_to_string(
            "learning/teacher/_exercise_list_rows.html", {"rows": _exercise_rows(exercises)}
        )

    # The list is cached per version of the rows it shows (learning.page_parts), and per what
    # the viewer may see (its reply counts are of the replies they see).
    scope = reply_selectors.visibility_key(request.membership)
    listing = page_parts.part(f"exercises:{scope}:{status}", rendered)
    return render(
        request,
        "learning/teacher/exercise_list.html",
        {"listing": listing, "status": status, "statuses": Exercise.Status.choices},
    )


def _exercise_rows(exercises) -> list[dict]:
    """The list's exercises as the template shows them (learning.pages: lists)."""
    detail = id_path("learning:teacher_exercise")
    statuses = dict(Exercise.Status.choices)
    rows = []
    for exercise in exercises.select_related(None).values(
        "public_id", "title", "instrument", "tags", "due_at", "created_at", "status",
        "reply_count",
    ):  # fmt: skip
        due_at, count = exercise["due_at"], exercise["reply_count"]
        rows.append(
            {
                "url": detail(exercise["public_id"]),
                "title": exercise["title"],
                "instrument": exercise["instrument"],
                "tags": exercise["tags"],
                "due": due_at and short_date(due_at),
                "created": short_date(exercise["created_at"], time=False),
                "status": exercise["status"],
                "status_label": statuses.get(exercise["status"], exercise["status"]),
                "replies": f"{count} {'reply' if count == 1 else 'replies'}",
            }
        )
    return rows


def _exercise_initial(exercise: Exercise) -> dict:
    return {
        "title": exercise.title,
        "instructions": exercise.instructions,
        "instrument": exercise.instrument,
        "tags": ", ".join(exercise.tags),
        "due_at": exercise.due_at,
        "assign": "all" if exercise.assign_to_all else "some",
        "classes": [str(c.public_id) for c in exercise.assigned_classes.all()],
        "students": [str(u.public_id) for u in exercise.assigned_students.all()],
        "demo": exercise.demo.public_id if exercise.demo else None,
        "peer_review_count": exercise.peer_review_count,
        "peer_review_anonymous": exercise.peer_review_anonymous,
    }


def _exercise_form(request, exercise: Exercise | None) -> HttpResponse:
    choices = {"class_choices": _class_choices(), "student_choices": _student_choices(request)}
    preview = None
    demo = exercise.demo if exercise else None
    if request.method == "POST":
        form = ExerciseForm(request.POST, **choices)
        if form.is_valid():
            data = form.cleaned_data
            if data["demo"]:
                demo = MediaFile.objects.filter(public_id=data["demo"]).first()
            if "preview" in request.POST:
                preview = data["instructions"]
            else:
                try:
                    exercise = services.exercise_save(
                        member=request.membership,
                        exercise=exercise,
                        title=data["title"],
                        instructions=data["instructions"],
                        instrument=data["instrument"],
                        tags=form.tag_list(),
                        due_at=data["due_at"],
                        demo=demo,
                        assign_to_all=data["assign"] == "all",
                        class_ids=Classroom.objects.filter(
                            public_id__in=data["classes"]
                        ).values_list("pk", flat=True),
                        student_ids=_student_ids(request, data["students"]),
                    )
                    exercise = peer_review_services.peer_review_configure(
                        member=request.membership,
                        exercise=exercise,
                        count=data["peer_review_count"] or 0,
                        anonymous=data["peer_review_anonymous"],
                    )
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    return _after_save(request, exercise)
    else:
        initial = _exercise_initial(exercise) if exercise else {}
        form = ExerciseForm(initial=initial, **choices)
    return render(
        request,
        "learning/teacher/exercise_form.html",
        {
            "form": form,
            "exercise": exercise,
            "demo": demo,
            "demo_state": media_state(demo),
            "preview": preview,
            "max_upload_bytes": settings.PRACTIKA_MAX_UPLOAD_BYTES,
        },
    )


def _after_save(request: HttpRequest, exercise: Exercise) -> HttpResponse:
    """Publish if asked, then redirect in every case: the draft exists now, so a refused
    publish goes to its edit page (a reload there cannot create a second draft)."""
    if "publish" not in request.POST:
        messages.success(request, f"“{exercise.title}” is saved.")
        return redirect("learning:teacher_exercise", public_id=exercise.public_id)
    try:
        services.exercise_publish(member=request.membership, exercise=exercise)
    except DomainError as error:
        messages.error(
            request, f"“{exercise.title}” is saved as a draft, not published: {error.message}"
        )
        return redirect("learning:exercise_edit", public_id=exercise.public_id)
    messages.success(request, f"“{exercise.title}” is published.")
    return redirect("learning:teacher_exercise", public_id=exercise.public_id)


@teacher_page
def exercise_create(request: HttpRequest) -> HttpResponse:
    return _exercise_form(request, None)


@teacher_page
def exercise_edit(request: HttpRequest, public_id) -> HttpResponse:
    exercise = found(lambda: selectors.exercise_get(member=request.membership, public_id=public_id))
    return _exercise_form(request, exercise)


@teacher_page
def teacher_exercise(request: HttpRequest, public_id) -> HttpResponse:
    exercise = found(lambda: selectors.exercise_get(member=request.membership, public_id=public_id))
    replies = (
        reply_selectors.replies_visible_to(member=request.membership)
        .filter(exercise=exercise)
        .order_by("student__email", "-attempt")
    )
    return render(
        request,
        "learning/teacher/exercise_detail.html",
        {
            "exercise": exercise,
            "replies": replies,
            "demo_sources": media_sources(exercise.demo),
            "demo_state": media_state(exercise.demo),
            "classes": exercise.assigned_classes.all(),
            "students": exercise.assigned_students.all(),
        },
    )


@teacher_page
@require_POST
def exercise_publish(request: HttpRequest, public_id) -> HttpResponse:
    exercise = found(lambda: selectors.exercise_get(member=request.membership, public_id=public_id))
    try:
        services.exercise_publish(member=request.membership, exercise=exercise)
        messages.success(request, f"“{exercise.title}” is published.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("learning:teacher_exercise", public_id=exercise.public_id)


@teacher_page
@require_POST
def exercise_delete(request: HttpRequest, public_id) -> HttpResponse:
    exercise = found(lambda: selectors.exercise_get(member=request.membership, public_id=public_id))
    services.exercise_delete(member=request.membership, exercise=exercise)
    messages.success(request, f"“{exercise.title}” was deleted.")
    return redirect("learning:teacher_exercises")


# --- Teacher: classes and inbox -----------------------------------------------------------


@teacher_page
def classroom_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "learning/teacher/classroom_list.html", {"classrooms": selectors.classrooms()}
    )


def _classroom_form(request, classroom: Classroom | None) -> HttpResponse:
    member = request.membership
    may_set_teachers = classroom is None or coteacher_services.may_change_teachers(
        member=member, classroom=classroom
    )
    choices = {
        "student_choices": _student_choices(request),
        "teacher_choices": _teacher_choices(),
    }
    if request.method == "POST":
        form = ClassroomForm(request.POST, **choices)
        if form.is_valid():
            try:
                with transaction.atomic():
                    classroom = services.classroom_save(
                        member=member,
                        classroom=classroom,
                        name=form.cleaned_data["name"],
                        student_ids=_student_ids(request, form.cleaned_data["students"]),
                        ends_on=form.cleaned_data["ends_on"],
                    )
                    if may_set_teachers and form.cleaned_data["teachers_shown"]:
                        coteacher_services.classroom_teachers_set(
                            member=member,
                            classroom=classroom,
                            teacher_ids=_student_ids(request, form.cleaned_data["teachers"]),
                        )
                messages.success(request, f"Class “{classroom.name}” is saved.")
                return redirect("learning:classes")
            except DomainError as error:
                form.add_error(None, error.message)
    else:
        initial = {"teachers": [str(request.user.public_id)], "teachers_shown": True}
        if classroom is not None:
            initial = {
                "name": classroom.name,
                "ends_on": classroom.ends_on,
                "students": [str(u.public_id) for u in classroom.students.all()],
                "teachers": [str(u.public_id) for u in classroom.teachers.all()],
                "teachers_shown": True,
            }
        form = ClassroomForm(initial=initial, **choices)
    return render(
        request,
        "learning/teacher/classroom_form.html",
        {"form": form, "classroom": classroom, "may_set_teachers": may_set_teachers},
    )


@teacher_page
def classroom_create(request: HttpRequest) -> HttpResponse:
    return _classroom_form(request, None)


@teacher_page
def classroom_edit(request: HttpRequest, public_id) -> HttpResponse:
    classroom = Classroom.objects.filter(public_id=public_id).first()
    if classroom is None:
        raise Http404("This class does not exist.")
    return _classroom_form(request, classroom)


# --- Students -----------------------------------------------------------------------------

STUDENT_STATUS = {
    None: ("not_started", "Not started"),
    Reply.Status.SUBMITTED: ("submitted", "Submitted"),
    Reply.Status.REVIEWED: ("reviewed", "Reviewed"),
    Reply.Status.TRY_AGAIN: ("try_again", "Try again"),
}


@student_page
def my_exercises(request: HttpRequest) -> HttpResponse:
    exercises = list(selectors.exercises_for_student(student=request.user))
    # One query for the latest attempt of each exercise, whatever the number of exercises.
    latest: dict[int, Reply] = {}
    for reply in Reply.objects.filter(
        student=request.user, exercise__in=[e.pk for e in exercises]
    ).order_by("exercise_id", "attempt"):
        latest[reply.exercise_id] = reply
    # Steps of a course that are not open yet say why (two queries, learning.courses).
    locks = gates.locks_for(student=request.user, exercise_ids=[e.pk for e in exercises])
    rows, now = [], timezone.now()
    for exercise in exercises:
        reply = latest.get(exercise.pk)
        code, label = STUDENT_STATUS[reply.status if reply else None]
        overdue = reply is None and exercise.due_at is not None and exercise.due_at < now
        rows.append(
            {
                "exercise": exercise,
                "reply": reply,
                "status": code,
                "label": label,
                "overdue": overdue,
                "lock": locks.get(exercise.pk),
            }
        )
    return render(request, "learning/student/my_exercises.html", {"rows": rows})


@student_page
@cached_page(page_parts.VERSION_KEY)
def student_exercise(request: HttpRequest, public_id) -> HttpResponse:
    exercise = found(
        lambda: selectors.exercise_get(
            member=request.membership, public_id=public_id, for_page=True
        )
    )
    lock = gates.exercise_lock(member=request.membership, exercise=exercise)
    if lock is not None:  # a course's release date or prerequisite (learning.courses)
        return render(
            request,
            "learning/courses/locked.html",
            {"exercise": exercise, "lock": lock},
            status=403,
        )
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        media = MediaFile.objects.filter(public_id=form.cleaned_data["media"]).first()
        if media is None:
            form.add_error(None, "That recording does not exist. Upload it again.")
        else:
            try:
                reply = reply_services.reply_create(
                    member=request.membership,
                    exercise=exercise,
                    media=media,
                    note=form.cleaned_data["note"],
                )
                if reply.media.is_ready:
                    messages.success(request, f"Attempt {reply.attempt} is sent to your teacher.")
                else:
                    messages.success(
                        request,
                        f"Attempt {reply.attempt} is uploaded. It reaches your teacher once the "
                        "recording is processed; if it cannot be used, this page says why and "
                        "it does not count.",
                    )
                return redirect("learning:compare", public_id=reply.public_id)
            except DomainError as error:
                form.add_error(None, error.message)
    attempts = page_parts.value(
        f"attempts:{reply_selectors.visibility_key(request.membership)}:{exercise.pk}",
        lambda: list(reply_selectors.attempts_listed(member=request.membership, exercise=exercise)),
    )
    return render(
        request,
        "learning/student/exercise.html",
        {
            "exercise": exercise,
            "form": form,
            "attempts": attempts,
            "demo_sources": media_sources(exercise.demo),
            "demo_state": media_state(exercise.demo),
            "max_upload_bytes": settings.PRACTIKA_MAX_UPLOAD_BYTES,
            "upload_refused": upload_services.upload_refusal(member=request.membership),
        },
    )
