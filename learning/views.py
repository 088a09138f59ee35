"""The core-loop pages on a tenant's host: teachers' exercises, classes and inbox; students'
exercises and replies; and the compare page where both meet.

Views are thin: they parse input, call the same services and selectors as the REST API, and
render. Membership is already enforced for every page by tenants.middleware; the decorators
here add the role. A selector's NotFound becomes a 404, a service's DomainError is shown on
the page.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.db.models import Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from learning import roles, selectors, services, uploads
from learning.alignment import selectors as alignment_selectors
from learning.errors import DomainError, NotFound
from learning.forms import ClassroomForm, ExerciseForm, ReplyForm, ReviewForm
from learning.models import Classroom, Exercise, MediaFile, Reply
from tenants import selectors as tenant_selectors
from tenants.decorators import forbidden

# --- Access -------------------------------------------------------------------------------


def teacher_page(view):
    """Owners, admins and teachers; students get a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.is_teacher(request.membership):
            return forbidden(request, "This page is for teachers.")
        return view(request, *args, **kwargs)

    return wrapper


def student_page(view):
    """Students only; teachers have their own pages for the same things."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.is_student(request.membership):
            return forbidden(request, "This page is for students.")
        return view(request, *args, **kwargs)

    return wrapper


def _found(value_or_error):
    """Turn a selector's NotFound into the page's 404."""
    try:
        return value_or_error()
    except NotFound as error:
        raise Http404(error.message) from error


# --- Media URLs ---------------------------------------------------------------------------


def media_sources(media: MediaFile | None) -> dict | None:
    """Where a page plays `media` from: short-lived signed URLs of its processed renditions
    (learning.uploads.media_playback, shared with the media API). None until it is ready."""
    playback = uploads.media_playback(media=media) if media is not None else None
    if playback is None or not playback.renditions:
        return None
    urls = playback.renditions
    main = urls.get("720p") or urls.get("360p") or urls.get("audio") or next(iter(urls.values()))
    return {
        "src": main,
        "poster": playback.poster,
        "has_video": media.has_video,
        "duration": media.duration_s or 0,
    }


def _media_state(media: MediaFile | None) -> dict:
    if media is None:
        return {"state": "", "label": "No recording", "error": ""}
    return {
        "public_id": str(media.public_id),
        "state": media.state,
        "label": media.get_state_display(),
        "error": media.error_message,
    }


def _waveform(media: MediaFile | None) -> dict:
    """The timeline's peaks in one shape, whatever shape processing stored."""
    data = getattr(media, "waveform", None) or []
    if isinstance(data, dict):
        return {"peaks": data.get("peaks", []), "peaks_per_second": data.get("peaks_per_second")}
    return {"peaks": data, "peaks_per_second": None}


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


def _class_choices() -> list[tuple[str, str]]:
    return [(str(c.public_id), c.name) for c in Classroom.objects.order_by("name")]


# --- Teacher: exercises -------------------------------------------------------------------


@teacher_page
def exercise_list(request: HttpRequest) -> HttpResponse:
    exercises = selectors.exercises_for_teacher()
    status = request.GET.get("status", "")
    if status in Exercise.Status.values:
        exercises = exercises.filter(status=status)
    return render(
        request,
        "learning/teacher/exercise_list.html",
        {"exercises": exercises, "status": status, "statuses": Exercise.Status.choices},
    )


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
                        actor=request.membership,
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
                    if "publish" in request.POST:
                        services.exercise_publish(actor=request.membership, exercise=exercise)
                        messages.success(request, f"“{exercise.title}” is published.")
                    else:
                        messages.success(request, f"“{exercise.title}” is saved.")
                    return redirect("learning:teacher_exercise", public_id=exercise.public_id)
                except DomainError as error:
                    form.add_error(None, error.message)
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
            "demo_state": _media_state(demo),
            "preview": preview,
            "max_upload_bytes": settings.PRACTIKA_MAX_UPLOAD_BYTES,
        },
    )


@teacher_page
def exercise_create(request: HttpRequest) -> HttpResponse:
    return _exercise_form(request, None)


@teacher_page
def exercise_edit(request: HttpRequest, public_id) -> HttpResponse:
    exercise = _found(
        lambda: selectors.exercise_get(membership=request.membership, public_id=public_id)
    )
    return _exercise_form(request, exercise)


@teacher_page
def teacher_exercise(request: HttpRequest, public_id) -> HttpResponse:
    exercise = _found(
        lambda: selectors.exercise_get(membership=request.membership, public_id=public_id)
    )
    replies = (
        selectors.replies_visible_to(membership=request.membership)
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
            "demo_state": _media_state(exercise.demo),
            "classes": exercise.assigned_classes.all(),
            "students": exercise.assigned_students.all(),
        },
    )


@teacher_page
@require_POST
def exercise_publish(request: HttpRequest, public_id) -> HttpResponse:
    exercise = _found(
        lambda: selectors.exercise_get(membership=request.membership, public_id=public_id)
    )
    try:
        services.exercise_publish(actor=request.membership, exercise=exercise)
        messages.success(request, f"“{exercise.title}” is published.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("learning:teacher_exercise", public_id=exercise.public_id)


@teacher_page
@require_POST
def exercise_delete(request: HttpRequest, public_id) -> HttpResponse:
    exercise = _found(
        lambda: selectors.exercise_get(membership=request.membership, public_id=public_id)
    )
    services.exercise_delete(actor=request.membership, exercise=exercise)
    messages.success(request, f"“{exercise.title}” was deleted.")
    return redirect("learning:teacher_exercises")


# --- Teacher: classes and inbox -----------------------------------------------------------


@teacher_page
def classroom_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "learning/teacher/classroom_list.html", {"classrooms": selectors.classrooms()}
    )


def _classroom_form(request, classroom: Classroom | None) -> HttpResponse:
    choices = {"student_choices": _student_choices(request)}
    if request.method == "POST":
        form = ClassroomForm(request.POST, **choices)
        if form.is_valid():
            try:
                classroom = services.classroom_save(
                    actor=request.membership,
                    classroom=classroom,
                    name=form.cleaned_data["name"],
                    student_ids=_student_ids(request, form.cleaned_data["students"]),
                )
                messages.success(request, f"Class “{classroom.name}” is saved.")
                return redirect("learning:classes")
            except DomainError as error:
                form.add_error(None, error.message)
    else:
        initial = {}
        if classroom is not None:
            initial = {
                "name": classroom.name,
                "students": [str(u.public_id) for u in classroom.students.all()],
            }
        form = ClassroomForm(initial=initial, **choices)
    return render(
        request, "learning/teacher/classroom_form.html", {"form": form, "classroom": classroom}
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


@teacher_page
def inbox(request: HttpRequest) -> HttpResponse:
    return render(
        request, "learning/teacher/inbox.html", {"replies": selectors.replies_awaiting_feedback()}
    )


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
    rows, now = [], timezone.now()
    for exercise in exercises:
        reply = latest.get(exercise.pk)
        code, label = STUDENT_STATUS[reply.status if reply else None]
        overdue = reply is None and exercise.due_at is not None and exercise.due_at < now
        rows.append(
            {"exercise": exercise, "reply": reply, "status": code, "label": label,
             "overdue": overdue}
        )
    return render(request, "learning/student/my_exercises.html", {"rows": rows})


def _with_feedback_times(replies, *, student):
    """Annotate when others last commented, for the unread mark."""
    return replies.annotate(
        last_feedback_at=Max("comments__created_at", filter=~Q(comments__author=student))
    )


def _is_unread(reply: Reply) -> bool:
    latest = max(
        (t for t in (reply.last_feedback_at, reply.reviewed_at) if t is not None), default=None
    )
    return latest is not None and (reply.student_seen_at is None or latest > reply.student_seen_at)


@student_page
def student_exercise(request: HttpRequest, public_id) -> HttpResponse:
    exercise = _found(
        lambda: selectors.exercise_get(membership=request.membership, public_id=public_id)
    )
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        media = MediaFile.objects.filter(public_id=form.cleaned_data["media"]).first()
        if media is None:
            form.add_error(None, "That recording does not exist. Upload it again.")
        else:
            try:
                reply = services.reply_create(
                    actor=request.membership,
                    exercise=exercise,
                    media=media,
                    note=form.cleaned_data["note"],
                )
                messages.success(request, f"Attempt {reply.attempt} is sent to your teacher.")
                return redirect("learning:compare", public_id=reply.public_id)
            except DomainError as error:
                form.add_error(None, error.message)
    attempts = (
        selectors.replies_visible_to(membership=request.membership)
        .filter(exercise=exercise)
        .order_by("-attempt")
    )
    return render(
        request,
        "learning/student/exercise.html",
        {
            "exercise": exercise,
            "form": form,
            "attempts": attempts,
            "demo_sources": media_sources(exercise.demo),
            "demo_state": _media_state(exercise.demo),
            "max_upload_bytes": settings.PRACTIKA_MAX_UPLOAD_BYTES,
        },
    )


@student_page
def my_replies(request: HttpRequest) -> HttpResponse:
    replies = _with_feedback_times(
        selectors.replies_visible_to(membership=request.membership), student=request.user
    ).order_by("-created_at")
    rows = [{"reply": r, "unread": _is_unread(r)} for r in replies]
    return render(request, "learning/student/my_replies.html", {"rows": rows})


# --- The compare page ---------------------------------------------------------------------


def _side(media: MediaFile | None, *, label: str, offset_ms: int = 0) -> dict:
    return {
        "label": label,
        "sources": media_sources(media),
        "media": _media_state(media),
        "waveform": _waveform(media),
        "offset_ms": offset_ms,
    }


BAND_KINDS = (
    ("rushed", "Rushed", "faster than the demonstration"),
    ("dragged", "Dragged", "slower than the demonstration"),
    ("missing", "Missing", "a passage of the demonstration not played"),
    ("extra", "Extra", "a pause or a passage not in the demonstration"),
    ("flat", "Flat", "lower in pitch"),
    ("sharp", "Sharp", "higher in pitch"),
)


def _analysis(reply: Reply, *, is_teacher: bool) -> dict:
    """The alignment's state as the page first shows it; compare.js loads the rest from the
    alignment API (which also queues the analysis on a first visit)."""
    alignment = alignment_selectors.alignment_of(reply=reply)
    status = alignment.status if alignment is not None else "pending"
    visible = alignment.visible_to_student if alignment is not None else True
    return {
        "status": status,
        "reason": alignment.reason if alignment is not None else "",
        "visible_to_student": visible,
        "hidden": not is_teacher and not visible,
        "manual_only": status in ("not_aligned", "failed"),
    }


def compare(request: HttpRequest, public_id) -> HttpResponse:
    """Demonstration (or another attempt) and a reply side by side, with time-coded feedback."""
    membership = request.membership
    reply = _found(lambda: selectors.reply_get(membership=membership, public_id=public_id))
    attempts = list(selectors.attempts_of(reply=reply))
    against = None
    if other := request.GET.get("with"):
        against = next((a for a in attempts if str(a.public_id) == other and a != reply), None)
        if against is None:
            raise Http404("That attempt does not exist.")
    if reply.student_id == request.user.pk:
        services.reply_mark_seen(actor=membership, reply=reply)
    exercise = reply.exercise
    if against is None:
        left = _side(exercise.demo, label="Demonstration")
    else:
        left = _side(against.media, label=f"Attempt {against.attempt}")
    right = _side(reply.media, label=f"Attempt {reply.attempt}", offset_ms=reply.sync_offset_ms)
    is_teacher = roles.is_teacher(membership)
    analysis = _analysis(reply, is_teacher=is_teacher) if against is None else None
    config = {
        "reply": str(reply.public_id),
        "mode": "attempts" if against else "demonstration",
        # Sign convention: reply position = demonstration position - offset. A positive offset
        # means the reply's first moment lines up with the demonstration at +offset.
        "offset_ms": reply.sync_offset_ms,
        "can_sync": against is None,
        "left": left,
        "right": right,
        "me": str(request.user.public_id),
        "is_teacher": is_teacher,
        "api": {
            "reply": reverse("api-reply", kwargs={"public_id": reply.public_id}),
            "comments": reverse("api-reply-comments", kwargs={"public_id": reply.public_id}),
            "comment": reverse("api-comment", kwargs={"public_id": _UUID_SLOT}),
            "sync": reverse("api-reply-sync-offset", kwargs={"public_id": reply.public_id}),
            # The alignment is to the demonstration: none when comparing two attempts.
            "alignment": reverse("api-reply-alignment", kwargs={"public_id": reply.public_id})
            if analysis is not None
            else None,
        },
        "poll": left["media"]["state"] not in ("ready", "failed", "")
        or right["media"]["state"] not in ("ready", "failed"),
    }
    return render(
        request,
        "learning/compare.html",
        {
            "reply": reply,
            "exercise": exercise,
            "against": against,
            "attempts": attempts,
            "config": config,
            "left": left,
            "right": right,
            "is_teacher": config["is_teacher"],
            "analysis": analysis,
            "band_kinds": BAND_KINDS,
            "review_form": ReviewForm(),
        },
    )


_UUID_SLOT = "00000000-0000-0000-0000-000000000000"


@require_POST
def reply_review(request: HttpRequest, public_id) -> HttpResponse:
    if not roles.is_teacher(request.membership):
        return forbidden(request, "Only teachers review replies.")
    reply = _found(
        lambda: selectors.reply_get(membership=request.membership, public_id=public_id)
    )
    form = ReviewForm(request.POST)
    if form.is_valid():
        services.reply_review(
            actor=request.membership, reply=reply, status=form.cleaned_data["status"]
        )
        label = "reviewed" if reply.status == Reply.Status.REVIEWED else "marked “try again”"
        name = reply.student.display_name
        messages.success(request, f"{name}'s attempt {reply.attempt} is {label}.")
    return redirect("learning:compare", public_id=reply.public_id)

