"""The core-loop pages through the Django test client on school A's host (given / when / then)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from learning.models import Comment, Exercise, MediaFile, Reply
from tests.conftest import client_for
from tests.support.factories import (
    CommentFactory,
    ExerciseFactory,
    MediaFileFactory,
    ReplyFactory,
)

TEACHER_PAGES = [
    "/teach/exercises/",
    "/teach/exercises/new/",
    "/teach/inbox/",
    "/teach/classes/",
    "/teach/classes/new/",
]
STUDENT_PAGES = ["/exercises/", "/replies/"]


def _exercise(school, **fields) -> Exercise:
    with tenant_context(school.tenant):
        return ExerciseFactory(created_by=school.teacher, **fields)


def _reply(school, *, student=None, exercise=None, **fields) -> Reply:
    with tenant_context(school.tenant):
        exercise = exercise or ExerciseFactory(created_by=school.teacher)
        return ReplyFactory(exercise=exercise, student=student or school.student, **fields)


def _html(client, url: str) -> str:
    """The page at `url`, which must render (a "not in" check on an error page proves nothing)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- Who may open what ----------------------------------------------------------------------


def test_teacher_pages_render_for_teachers_and_refuse_students(school_a):
    exercise = _exercise(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    student = client_for(school_a.student, school_a.host)
    pages = [
        *TEACHER_PAGES,
        f"/teach/exercises/{exercise.public_id}/",
        f"/teach/exercises/{exercise.public_id}/edit/",
    ]

    for page in pages:
        assert teacher.get(page).status_code == 200, page
        assert student.get(page).status_code == 403, page
    assert student.post(f"/teach/exercises/{exercise.public_id}/publish/").status_code == 403


def test_student_pages_render_for_students_and_refuse_teachers(school_a):
    exercise = _exercise(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    student = client_for(school_a.student, school_a.host)

    for page in [*STUDENT_PAGES, f"/exercises/{exercise.public_id}/"]:
        assert student.get(page).status_code == 200, page
        assert teacher.get(page).status_code == 403, page


def test_pages_need_a_login(school_a):
    anonymous = client_for(None, school_a.host)

    for page in [*TEACHER_PAGES, *STUDENT_PAGES]:
        response = anonymous.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], page


def test_a_student_cannot_open_another_students_reply(school_a):
    theirs = _reply(school_a, student=school_a.other_student)
    mine = _reply(school_a)
    student = client_for(school_a.student, school_a.host)

    assert student.get(f"/replies/{mine.public_id}/").status_code == 200
    assert student.get(f"/replies/{theirs.public_id}/").status_code == 404
    assert client_for(school_a.teacher, school_a.host).get(
        f"/replies/{theirs.public_id}/"
    ).status_code == 200


def test_students_do_not_see_unassigned_or_draft_exercises(school_a):
    draft = _exercise(school_a, status=Exercise.Status.DRAFT, published_at=None)
    other_only = _exercise(school_a, assign_to_all=False)
    with tenant_context(school_a.tenant):
        other_only.assigned_students.set([school_a.other_student])
    student = client_for(school_a.student, school_a.host)

    assert student.get(f"/exercises/{draft.public_id}/").status_code == 404
    assert student.get(f"/exercises/{other_only.public_id}/").status_code == 404
    listing = _html(student, "/exercises/")
    assert draft.title not in listing and other_only.title not in listing


def test_school_b_cannot_reach_school_a_pages(school_a, school_b):
    reply = _reply(school_a)
    exercise = reply.exercise
    teacher_b = client_for(school_b.teacher, school_b.host)

    assert teacher_b.get(f"/replies/{reply.public_id}/").status_code == 404
    assert teacher_b.get(f"/teach/exercises/{exercise.public_id}/").status_code == 404
    # Logged in to B, knocking on A's host: not a member there.
    assert client_for(school_b.teacher, school_a.host).get("/teach/exercises/").status_code == 403


# --- Markdown ---------------------------------------------------------------------------------


def test_instructions_are_rendered_as_markdown_without_scripts_or_javascript_links(school_a):
    exercise = _exercise(
        school_a,
        instructions=(
            "Play **slowly**.\n\n<script>alert('owned')</script>\n\n"
            "[click me](javascript:alert(1)) and <a href=\"javascript:alert(2)\">me</a> "
            "<img src=x onerror=alert(3)> [score](https://example.com/score.pdf)"
        ),
    )
    student = client_for(school_a.student, school_a.host)

    html = student.get(f"/exercises/{exercise.public_id}/").content.decode()

    assert "<strong>slowly</strong>" in html
    assert "alert(" not in html
    assert "javascript:" not in html
    assert "onerror" not in html
    assert 'href="https://example.com/score.pdf"' in html


def test_teacher_previews_instructions_safely(school_a):
    teacher = client_for(school_a.teacher, school_a.host)

    response = teacher.post(
        "/teach/exercises/new/",
        {"title": "Scales", "instructions": "*soft* <script>x()</script>", "assign": "all",
         "preview": "1"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<em>soft</em>" in html and "<script>x()" not in html
    with tenant_context(school_a.tenant):
        assert not Exercise.objects.filter(title="Scales").exists()


# --- The flow through the pages ---------------------------------------------------------------


def test_teacher_creates_and_publishes_and_student_replies_through_the_pages(school_a):
    with tenant_context(school_a.tenant):
        demo = MediaFileFactory(owner=school_a.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        take = MediaFileFactory(owner=school_a.student, state=MediaFile.State.UPLOADED)
    teacher = client_for(school_a.teacher, school_a.host)
    student = client_for(school_a.student, school_a.host)

    created = teacher.post(
        "/teach/exercises/new/",
        {
            "title": "Minuet in G",
            "instructions": "Bars 1-8",
            "instrument": "Violin",
            "tags": "Baroque, bowing",
            "due_at": "2030-05-01T18:00",
            "assign": "some",
            "students": [str(school_a.student.public_id)],
            "demo": str(demo.public_id),
            "publish": "1",
        },
    )
    assert created.status_code == 302, created.content.decode()
    with tenant_context(school_a.tenant):
        exercise = Exercise.objects.get(title="Minuet in G")
        assert exercise.status == Exercise.Status.PUBLISHED
        assert exercise.tags == ["baroque", "bowing"]
        assert list(exercise.assigned_students.all()) == [school_a.student]
    assert "Minuet in G" in _html(student, "/exercises/")
    other_student = client_for(school_a.other_student, school_a.host)
    assert "Minuet in G" not in _html(other_student, "/exercises/")

    sent = student.post(
        f"/exercises/{exercise.public_id}/", {"media": str(take.public_id), "note": "take one"}
    )
    assert sent.status_code == 302
    with tenant_context(school_a.tenant):
        reply = Reply.objects.get(exercise=exercise)
    assert sent["Location"] == f"/replies/{reply.public_id}/"
    assert "Minuet in G" in teacher.get("/teach/inbox/").content.decode()

    reviewed = teacher.post(f"/replies/{reply.public_id}/review/", {"status": "try_again"})
    assert reviewed.status_code == 302
    with tenant_context(school_a.tenant):
        reply.refresh_from_db()
    assert reply.status == Reply.Status.TRY_AGAIN
    refused = student.post(f"/replies/{reply.public_id}/review/", {"status": "reviewed"})
    assert refused.status_code == 403


def test_publishing_without_a_demonstration_shows_the_reason(school_a):
    teacher = client_for(school_a.teacher, school_a.host)

    form = {"title": "No demo yet", "assign": "all", "publish": "1"}

    response = teacher.post("/teach/exercises/new/", form)

    # The draft is kept and the teacher is sent to it, with the reason
    with tenant_context(school_a.tenant):
        draft = Exercise.objects.get(title="No demo yet")
    assert draft.status == Exercise.Status.DRAFT
    assert response.status_code == 302
    assert response["Location"] == f"/teach/exercises/{draft.public_id}/edit/"
    page = teacher.get(response["Location"]).content.decode()
    assert "saved as a draft, not published" in page
    assert "Add a demonstration recording before publishing." in page

    # Publishing again from its page (what a reload there sends) makes no second draft
    again = teacher.post(response["Location"], form)
    assert again.status_code == 302
    with tenant_context(school_a.tenant):
        assert Exercise.objects.filter(title="No demo yet").count() == 1


def test_teacher_creates_a_class(school_a):
    teacher = client_for(school_a.teacher, school_a.host)

    response = teacher.post(
        "/teach/classes/new/",
        {"name": "Tuesday violins", "students": [str(school_a.student.public_id)]},
    )

    assert response.status_code == 302
    assert "Tuesday violins" in teacher.get("/teach/classes/").content.decode()


def test_compare_page_carries_the_sync_offset_and_other_attempts(school_a):
    first = _reply(school_a, attempt=1)
    second = _reply(school_a, exercise=first.exercise, attempt=2, sync_offset_ms=250)
    student = client_for(school_a.student, school_a.host)

    response = student.get(f"/replies/{second.public_id}/")
    config = json.loads(
        response.content.decode().split('id="compare-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["offset_ms"] == 250 and config["mode"] == "demonstration"
    assert config["api"]["sync"] == f"/api/v1/replies/{second.public_id}/sync-offset/"
    assert "attempt 1" in response.content.decode()

    against = student.get(f"/replies/{second.public_id}/?with={first.public_id}")
    assert against.status_code == 200 and "Attempt 1" in against.content.decode()
    theirs = _reply(school_a, student=school_a.other_student)
    assert student.get(f"/replies/{second.public_id}/?with={theirs.public_id}").status_code == 404


def test_new_feedback_is_marked_unread_until_the_student_opens_the_reply(school_a):
    reply = _reply(school_a)
    student = client_for(school_a.student, school_a.host)
    assert "New feedback" not in _html(student, "/replies/")

    with tenant_context(school_a.tenant):
        CommentFactory(reply=reply, author=school_a.teacher)
    assert "New feedback" in _html(student, "/replies/")

    # Opening the compare page only reads; its script then says the feedback was seen.
    assert student.get(f"/replies/{reply.public_id}/").status_code == 200
    assert "New feedback" in _html(student, "/replies/")
    assert student.post(f"/api/v1/replies/{reply.public_id}/seen/").status_code == 204
    assert "New feedback" not in _html(student, "/replies/")

    with tenant_context(school_a.tenant):
        CommentFactory(reply=reply, author=school_a.student, body="A question")
    assert "New feedback" not in _html(student, "/replies/")


def test_comments_from_people_are_not_rendered_as_html_by_the_page(
    school_a, django_capture_on_commit_callbacks
):
    # Given a teacher's comment that is an HTML payload, posted as the compare page posts it
    reply = _reply(school_a)
    payload = "<img src=x onerror=alert(1)>"
    teacher = client_for(school_a.teacher, school_a.host)
    with django_capture_on_commit_callbacks(execute=True):  # the notification is made on commit
        posted = teacher.post(
            f"/api/v1/replies/{reply.public_id}/comments/",
            {"body": payload, "at_ms": 1500, "side": "reply"},
            content_type="application/json",
        )
    assert posted.status_code == 201, posted.content
    student = client_for(school_a.student, school_a.host)

    # The compare page reads comment bodies from the API as JSON data, which its script puts
    # in with textContent (lib/dom.js; the browser test checks the text shows as typed).
    thread = student.get(f"/api/v1/replies/{reply.public_id}/comments/")
    assert thread.status_code == 200
    assert thread["Content-Type"].startswith("application/json")
    assert thread.headers.get("X-Content-Type-Options") == "nosniff"
    assert [c["body"] for c in thread.json()] == [payload]

    # The page itself carries no comment body, raw or otherwise
    page = student.get(f"/replies/{reply.public_id}/")
    assert page.status_code == 200
    assert "onerror=alert" not in page.content.decode()

    # Where a body is rendered by the server (the student's notifications), it is escaped
    notifications = student.get("/notifications/")
    assert notifications.status_code == 200
    html = notifications.content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert payload not in html


# --- Constant query counts --------------------------------------------------------------------


def _fill(school, rows: int) -> None:
    """`rows` published exercises, each with a reply by the student, a comment and a demo."""
    with tenant_context(school.tenant):
        for n in range(rows):
            exercise = ExerciseFactory(
                created_by=school.teacher,
                due_at=timezone.now() + timedelta(days=n),
                tags=["scales"],
                instrument="Cello",
            )
            reply = ReplyFactory(exercise=exercise, student=school.student, attempt=1)
            CommentFactory(reply=reply, author=school.teacher)


def _queries(client, url: str) -> int:
    client.get(url)  # warm-up: the first request of a session records the last activity
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("who", "url", "marker"),
    [
        ("teacher", "/teach/exercises/", "Scale exercise"),
        ("teacher", "/teach/inbox/", "Scale exercise"),
        ("student", "/exercises/", "Scale exercise"),
        ("student", "/replies/", "Scale exercise"),
    ],
)
def test_list_pages_run_a_constant_number_of_queries(school_a, who, url, marker):
    client = client_for(getattr(school_a, who), school_a.host)
    _fill(school_a, 3)
    client.get(url)  # the first visit fills the member's cached page chrome
    few = _queries(client, url)

    _fill(school_a, 52)
    many = _queries(client, url)

    # The inbox shows a page of 50 at a time.
    shown = 50 if url == "/teach/inbox/" else 55
    assert client.get(url).content.decode().count(marker) >= shown
    assert many == few
    with tenant_context(school_a.tenant):
        assert Comment.objects.count() >= 55


def test_the_inbox_row_shows_the_reply(school_a):
    # Given a reply with a long note, sent three days ago, whose recording is ready (the inbox
    # lists only attempts to review)
    with tenant_context(school_a.tenant):
        media = MediaFileFactory(owner=school_a.student, state=MediaFile.State.READY)
    reply = _reply(
        school_a,
        exercise=_exercise(school_a, title="Bourrée <No. 2>"),
        media=media,
        note="n" * 100,
        attempt=2,
    )
    with tenant_context(school_a.tenant):
        Reply.objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(days=3))
    teacher = client_for(school_a.teacher, school_a.host)

    # When the teacher opens the inbox
    html = _html(teacher, "/teach/inbox/")

    # Then the row links to its compare page and says who, what, which attempt and how long
    assert f'href="/replies/{reply.public_id}/"' in html
    assert f"{school_a.student.display_name} · Bourrée &lt;No. 2&gt;" in html
    assert f"Attempt 2 · “{'n' * 79}…”" in html
    assert "waiting 3\xa0days" in html


def test_the_exercise_list_row_shows_the_exercise(school_a):
    # Given a published exercise with a due date, tags and one reply, and a draft
    exercise = _exercise(
        school_a,
        title="Gigue & <Reel>",
        instrument="fiddle",
        tags=["dance"],
        status=Exercise.Status.PUBLISHED,
        published_at=timezone.now(),
        due_at=timezone.make_aware(timezone.datetime(2031, 3, 7, 18, 30)),
    )
    _reply(school_a, exercise=exercise)
    draft = _exercise(school_a, title="Later", status=Exercise.Status.DRAFT, published_at=None)
    teacher = client_for(school_a.teacher, school_a.host)

    # When the teacher opens the list
    html = _html(teacher, "/teach/exercises/")

    # Then each row links to its exercise and says what it is, when it is due and its replies
    assert f'href="/teach/exercises/{exercise.public_id}/"' in html
    assert "Gigue &amp; &lt;Reel&gt;" in html
    assert "fiddle · due 7 Mar, 18:30 · created" in html
    assert '<span class="tag">dance</span>' in html
    assert '<span class="badge status-published">Published</span>' in html
    assert "1 reply<" in html
    assert f'href="/teach/exercises/{draft.public_id}/"' in html
    assert '<span class="badge status-draft">Draft</span>' in html
    assert "0 replies<" in html
    # The status filter still narrows the list
    assert "Later" not in _html(teacher, "/teach/exercises/?status=published")


def test_instructions_follow_an_edit_though_renderings_are_kept(school_a):
    # Markdown renderings are kept per process (a pure function of the text): an edited
    # exercise shows its new instructions, sanitised, on the next view.
    from learning.templatetags.learning_tags import render_markdown

    first = render_markdown("Play **slowly**. <script>x()</script>")
    assert first == render_markdown("Play **slowly**. <script>x()</script>")
    assert "<strong>slowly</strong>" in first
    assert "<script" not in first
    exercise = _exercise(school_a, instructions="Play **slowly**.")
    student = client_for(school_a.student, school_a.host)
    assert "<strong>slowly</strong>" in _html(student, f"/exercises/{exercise.public_id}/")
    with tenant_context(school_a.tenant):
        exercise.instructions = "Play *fast*."  # as the edit form saves it
        exercise.save(update_fields=["instructions"])
    html = _html(student, f"/exercises/{exercise.public_id}/")
    assert "<em>fast</em>" in html
    assert "<strong>slowly</strong>" not in html


@pytest.mark.parametrize(
    ("fmt", "year", "time"),
    [("j M Y, H:i", True, True), ("j M, H:i", False, True), ("j M", False, False)],
)
def test_list_dates_read_as_the_date_filter_writes_them(settings, fmt, year, time):
    from datetime import UTC, datetime

    from django.utils import dateformat

    from learning.pages import short_date

    settings.TIME_ZONE = "Europe/Paris"  # a zone that moves the day and the hour
    for value in (
        datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
        datetime(2026, 3, 29, 23, 59, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    ):
        with timezone.override("Europe/Paris"):
            expected = dateformat.format(timezone.localtime(value), fmt)
            assert short_date(value, year=year, time=time) == expected


def test_a_student_opens_an_exercise_assigned_to_them_or_to_their_class(school_a):
    from learning.models import Classroom

    mine = _exercise(school_a, assign_to_all=False)
    my_class = _exercise(school_a, assign_to_all=False)
    with tenant_context(school_a.tenant):
        mine.assigned_students.set([school_a.student])
        classroom = Classroom.objects.create(name="Tuesday strings")
        classroom.students.set([school_a.student])
        my_class.assigned_classes.set([classroom])
    student = client_for(school_a.student, school_a.host)
    other = client_for(school_a.other_student, school_a.host)

    assert student.get(f"/exercises/{mine.public_id}/").status_code == 200
    assert student.get(f"/exercises/{my_class.public_id}/").status_code == 200
    assert other.get(f"/exercises/{mine.public_id}/").status_code == 404
    assert other.get(f"/exercises/{my_class.public_id}/").status_code == 404
