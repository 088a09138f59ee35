"""The reply pages on a tenant's host: the teacher's inbox, the student's replies, and the
compare page where both meet (a reply beside its demonstration or another attempt, with
time-coded feedback). Views are thin: they call the same services and selectors as the API."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from learning import page_parts, roles
from learning.alignment import selectors as alignment_selectors
from learning.coteachers import selectors as coteacher_selectors
from learning.coteachers import views as coteacher_views
from learning.drawings import shapes
from learning.errors import DomainError
from learning.forms import ReviewForm
from learning.media_comments import selectors as media_comment_selectors
from learning.models import MediaFile, Reply
from learning.pages import (
    found,
    id_path,
    media_sources,
    media_state,
    short_date,
    student_page,
    teacher_page,
    waveform,
)
from learning.peer_review import views as peer_views
from learning.replies import selectors, services
from tenants.decorators import forbidden
from tenants.page_cache import cached_page


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


INBOX_PAGE_SIZE = 50


def _inbox_filters(request: HttpRequest) -> dict:
    """The inbox's `class` and `assignee` query parameters, checked (unknown ones are a 404)."""
    classroom = assignee = None
    if value := request.GET.get("class", ""):
        classroom = found(lambda: coteacher_selectors.classroom_get(public_id=_uuid(value)))
    if value := request.GET.get("assignee", ""):
        if value not in (selectors.ME, selectors.UNASSIGNED):
            value = _uuid(value)
        assignee = found(lambda: coteacher_selectors.assignee_get(value=value))
    return {"classroom": classroom, "assignee": assignee}


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("No such filter.") from None


def _filter_key(filters: dict) -> str:
    classroom, assignee = filters["classroom"], filters["assignee"]
    who = assignee if isinstance(assignee, str) or assignee is None else assignee.public_id
    return f"{classroom.public_id if classroom else '-'}:{who or '-'}"


def _inbox_filter_choices() -> dict:
    """The inbox's class and teacher choices, as plain rows (cached per version)."""
    return {
        "classrooms": [
            {"public_id": str(c.public_id), "name": c.name}
            for c in coteacher_selectors.classrooms_for_filter()
        ],
        "teachers": [
            {"public_id": str(m.user.public_id), "name": m.user.display_name}
            for m in coteacher_selectors.teaching_members()
        ],
    }


@teacher_page
@cached_page(page_parts.VERSION_KEY)
def inbox(request: HttpRequest) -> HttpResponse:
    # A page at a time: a school with thousands of replies waiting would otherwise render them
    # all (1.4 MB, 3 s at 3,300 waiting replies; docs/scaling.md).
    number = request.GET.get("page", "1")
    # One cached list per page number: anything else is the first page (as Paginator would).
    number = number if number.isdigit() and len(number) <= 6 else "1"
    member = request.membership
    filters = _inbox_filters(request)
    query = urlencode({k: request.GET[k] for k in ("class", "assignee") if request.GET.get(k)})

    def rendered() -> str:
        replies = selectors.replies_awaiting_feedback(member=member, **filters)
        page = Paginator(replies, INBOX_PAGE_SIZE).get_page(number)
        context = {"rows": _inbox_rows(page), "page": page, "query": query}
        return render_to_string("learning/teacher/_inbox_list.html", context)

    # The list is cached per version of the rows it shows (learning.page_parts), per what the
    # viewer may see and per filter.
    key = f"inbox:{selectors.visibility_key(member)}:{_filter_key(filters)}:{number}"
    listing = page_parts.part(key, rendered)
    return render(
        request,
        "learning/teacher/inbox.html",
        {
            "listing": listing,
            **page_parts.value("inbox-filters", _inbox_filter_choices),
            "selected_class": request.GET.get("class", ""),
            "selected_assignee": request.GET.get("assignee", ""),
            "me": str(request.user.public_id),
        },
    )


def _name(full_name: str | None, email: str | None) -> str:
    # As User.display_name.
    return full_name or (email or "").split("@")[0]


def _inbox_rows(page) -> list[dict]:
    """The page's replies as the template shows them (learning.pages: lists)."""
    now = timezone.now()
    compare = id_path("learning:compare")
    states = dict(MediaFile.State.choices)
    rows = []
    for reply in page.object_list.values(
        "public_id", "attempt", "note", "created_at", "student__full_name", "student__email",
        "exercise__title", "media__state", "assigned_to__full_name", "assigned_to__email",
    ):  # fmt: skip
        note = reply["note"]
        rows.append(
            {
                "url": compare(reply["public_id"]),
                # As User.display_name.
                "student": reply["student__full_name"] or reply["student__email"].split("@")[0],
                "exercise": reply["exercise__title"],
                "attempt": str(reply["attempt"]),  # no number localisation per row
                "note": note if len(note) <= 80 else f"{note[:79]}…",
                "sent": short_date(reply["created_at"], year=True),
                "waited": timesince(reply["created_at"], now),
                "state": reply["media__state"] or "",
                "state_label": states.get(reply["media__state"], ""),
                "assignee": _name(reply["assigned_to__full_name"], reply["assigned_to__email"]),
            }
        )
    return rows


@student_page
def my_replies(request: HttpRequest) -> HttpResponse:
    replies = _with_feedback_times(
        selectors.replies_visible_to(member=request.membership), student=request.user
    ).order_by("-created_at")
    rows = [{"reply": r, "unread": _is_unread(r)} for r in replies]
    return render(request, "learning/student/my_replies.html", {"rows": rows})


# --- The compare page ---------------------------------------------------------------------


def _shape(media: MediaFile | None) -> tuple[str, float]:
    """How the side's picture is shaped, for a layout that fits before the video loads:
    ("landscape" | "portrait" | "audio", width / height)."""
    if media is not None and media.state == MediaFile.State.READY and not media.has_video:
        return "audio", 1.0
    if media is None or not media.width or not media.height:
        return "landscape", 16 / 9
    ratio = media.width / media.height
    return ("portrait" if ratio < 1 else "landscape"), round(ratio, 4)


def _side(media: MediaFile | None, *, label: str, offset_ms: int = 0) -> dict:
    orientation, aspect = _shape(media)
    return {
        "label": label,
        "orientation": orientation,
        "aspect": aspect,
        "sources": media_sources(media),
        "media": media_state(media),
        "waveform": waveform(media),
        "offset_ms": offset_ms,
    }


BAND_KINDS = (
    ("rushed", "Rushed", "faster than the demonstration"),
    ("dragged", "Dragged", "slower than the demonstration"),
    ("missing", "Missing", "a passage of the demonstration not played"),
    ("extra", "Extra", "a pause or a passage not in the demonstration"),
    ("repeat", "Repeat", "a passage of the demonstration played again"),
    ("late_start", "Late start", "the reply comes in after the piece begins"),
    ("early_end", "Early end", "the reply stops before the demonstration ends"),
    ("flat", "Flat", "lower in pitch"),
    ("sharp", "Sharp", "higher in pitch"),
    ("wrong_note", "Wrong note", "another note than the demonstration's"),
    ("missed_note", "Missed note", "a note of the demonstration not played"),
    ("extra_note", "Extra note", "a note not in the demonstration"),
)


def _analysis(reply: Reply, *, is_teacher: bool) -> dict:
    """The alignment's state as the page first shows it; compare.js loads the rest from the
    alignment API. Both only read (the analysis is queued when the reply is sent)."""

    def read() -> dict:
        alignment = alignment_selectors.alignment_status(reply=reply)
        return {
            "status": alignment.status,
            "reason": alignment.reason,
            "visible_to_student": alignment.visible_to_student,
        }

    state = page_parts.value(f"alignment:{reply.pk}", read)
    return {
        **state,
        "hidden": not is_teacher and not state["visible_to_student"],
        "manual_only": state["status"] in ("not_aligned", "failed"),
    }


def _compare_reply(member, public_id) -> Reply:
    """reply_get, for a teacher from learning.page_parts' cache: keyed by what decides which
    replies they see (a student's reads, which peer review widens, are not cached)."""
    if not roles.is_teacher(member):
        return selectors.reply_get(member=member, public_id=public_id)
    key = f"reply:{selectors.visibility_key(member)}:{public_id}"
    return page_parts.value(key, lambda: selectors.reply_get(member=member, public_id=public_id))


def _attempts(reply: Reply) -> list[Reply]:
    key = f"attempts:{reply.exercise_id}:{reply.student_id}"
    return page_parts.value(key, lambda: list(selectors.attempts_of(reply=reply)))


@cached_page(page_parts.VERSION_KEY)
def compare(request: HttpRequest, public_id) -> HttpResponse:
    """Demonstration (or another attempt) and a reply side by side, with time-coded feedback."""
    member = request.membership
    reply = found(lambda: _compare_reply(member, public_id))
    # A classmate given the reply to review sees this one reply only (learning.peer_review).
    peer = peer_views.compare_context(member=member, reply=reply)
    attempts = [reply] if peer else _attempts(reply)
    against = None
    if other := request.GET.get("with"):
        against = next((a for a in attempts if str(a.public_id) == other and a != reply), None)
        if against is None:
            raise Http404("That attempt does not exist.")
    exercise = reply.exercise
    if against is None:
        left = _side(exercise.demo, label="Demonstration")
    else:
        left = _side(against.media, label=f"Attempt {against.attempt}")
    label = peer["label"] if peer else f"Attempt {reply.attempt}"
    right = _side(reply.media, label=label, offset_ms=reply.sync_offset_ms)
    is_teacher = roles.is_teacher(member)
    analysis = _analysis(reply, is_teacher=is_teacher) if against is None and not peer else None
    config = {
        "reply": str(reply.public_id),
        "mode": "attempts" if against else "demonstration",
        # Sign convention: reply position = demonstration position - offset. A positive offset
        # means the reply's first moment lines up with the demonstration at +offset.
        "offset_ms": reply.sync_offset_ms,
        "can_sync": against is None and not peer,
        "peer": {"reviewing": True} if peer else None,
        "left": left,
        "right": right,
        "me": str(request.user.public_id),
        "is_teacher": is_teacher,
        "api": {
            "reply": reverse("api-reply", kwargs={"public_id": reply.public_id}),
            "comments": reverse("api-reply-comments", kwargs={"public_id": reply.public_id}),
            "comment": reverse("api-comment", kwargs={"public_id": _UUID_SLOT}),
            "comment_hide": reverse("api-comment-hide", kwargs={"public_id": _UUID_SLOT})
            if is_teacher
            else None,
            "sync": reverse("api-reply-sync-offset", kwargs={"public_id": reply.public_id}),
            # The alignment is to the demonstration: none when comparing two attempts.
            "alignment": reverse("api-reply-alignment", kwargs={"public_id": reply.public_id})
            if analysis is not None
            else None,
            # The feedback library is for teachers only (learning.feedback_library).
            "library": reverse("api-feedback-library") if is_teacher else None,
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
            "sides": [(left, "left"), (right, "right")],
            "is_teacher": config["is_teacher"],
            "analysis": analysis,
            "band_kinds": BAND_KINDS,
            "review_form": ReviewForm(),
            "drawing_colors": shapes.COLOR_NAMES.items(),
            "note_recorder": media_comment_selectors.recorder_for(member=member),
            "peer": peer,
            "assign": coteacher_views.assign_context(reply=reply) if is_teacher else None,
        },
    )


_UUID_SLOT = "00000000-0000-0000-0000-000000000000"


@require_POST
def reply_review(request: HttpRequest, public_id) -> HttpResponse:
    if not roles.is_teacher(request.membership):
        return forbidden(request, "Only teachers review replies.")
    reply = found(lambda: selectors.reply_get(member=request.membership, public_id=public_id))
    form = ReviewForm(request.POST)
    if form.is_valid():
        services.reply_review(
            member=request.membership, reply=reply, status=form.cleaned_data["status"]
        )
        label = "reviewed" if reply.status == Reply.Status.REVIEWED else "marked “try again”"
        name = reply.student.display_name
        messages.success(request, f"{name}'s attempt {reply.attempt} is {label}.")
    return redirect("learning:compare", public_id=reply.public_id)


@require_POST
def reply_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A student deletes a draft (a reply whose recording failed)."""
    reply = found(lambda: selectors.reply_get(member=request.membership, public_id=public_id))
    try:
        services.reply_delete(member=request.membership, reply=reply)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("learning:compare", public_id=reply.public_id)
    messages.success(request, "The draft is deleted. It did not count as an attempt.")
    return redirect("learning:student_exercise", public_id=reply.exercise.public_id)
