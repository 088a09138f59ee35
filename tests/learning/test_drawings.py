"""Drawing on the frame, on the server (issue 18): a comment's shapes are checked strictly
(kinds, colours, counts, the 0..1 range) with a clear 400, only teachers draw, only where the
side has a picture, and the comment list stays at a constant query count with drawings."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from learning.drawings.shapes import MAX_FREEHAND_POINTS, MAX_SHAPES, clean_drawing
from learning.models import Comment, MediaFile
from tests.conftest import client_for
from tests.support.factories import CommentFactory, ExerciseFactory, MediaFileFactory, ReplyFactory

ARROW = {"kind": "arrow", "color": "#e03131", "points": [[0.1, 0.2], [0.5, 0.6]]}
CIRCLE = {"kind": "circle", "color": "#ffffff", "points": [[0.4, 0.3], [0.6, 0.7]]}
FREEHAND = {"kind": "freehand", "color": "#339af0", "points": [[0, 0], [0.5, 0.25], [1, 1]]}


def _reply(school, *, reply_video=True):
    with tenant_context(school.tenant):
        demo = MediaFileFactory(owner=school.teacher, purpose=MediaFile.Purpose.DEMONSTRATION)
        take = MediaFileFactory(owner=school.student, has_video=reply_video)
        exercise = ExerciseFactory(created_by=school.teacher, demo=demo)
        return ReplyFactory(exercise=exercise, student=school.student, media=take, attempt=1)


def _post(client, reply, **body):
    return client.post(
        f"/api/v1/replies/{reply.public_id}/comments/",
        {"body": "Bow angle here", "at_ms": 2000, "side": "reply", **body},
        content_type="application/json",
    )


def test_a_teachers_drawing_is_stored_as_vector_data_and_listed(school_a):
    reply = _reply(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    line = {**ARROW, "kind": "line", "points": [[0.3333333, 1], [0, 0]]}
    shapes = [ARROW, CIRCLE, FREEHAND, line]
    created = _post(teacher, reply, drawing=shapes)
    assert created.status_code == 201, created.content
    assert created.json()["drawing"][3]["points"] == [[0.3333, 1.0], [0.0, 0.0]]  # rounded
    student = client_for(school_a.student, school_a.host)
    listed = student.get(f"/api/v1/replies/{reply.public_id}/comments/").json()
    assert [s["kind"] for s in listed[0]["drawing"]] == ["arrow", "circle", "freehand", "line"]
    with tenant_context(school_a.tenant):
        assert Comment.objects.get(public_id=created.json()["public_id"]).drawing[0] == ARROW


@pytest.mark.parametrize(
    ("drawing", "words"),
    [
        ({"kind": "arrow"}, "list of shapes"),
        ([ARROW] * (MAX_SHAPES + 1), f"at most {MAX_SHAPES} shapes"),
        ([{**ARROW, "kind": "square"}], "kind must be one of"),
        ([{**ARROW, "color": "#123456"}], "colour must be one of"),
        ([{**ARROW, "color": "red"}], "colour must be one of"),
        ([{**ARROW, "points": [[0.1, 0.2]]}], "exactly 2 points"),
        ([{**CIRCLE, "points": [[0.1, 0.2], [0.2, 0.3], [0.4, 0.4]]}], "exactly 2 points"),
        ([{**ARROW, "points": [[1.2, 0.2], [0.5, 0.5]]}], "between 0 and 1"),
        ([{**ARROW, "points": [[-0.01, 0.2], [0.5, 0.5]]}], "between 0 and 1"),
        ([{**ARROW, "points": [[10**400, 0.2], [0.5, 0.5]]}], "between 0 and 1"),
        ([{**ARROW, "points": [["0.1", 0.2], [0.5, 0.5]]}], "must be a number"),
        ([{**ARROW, "points": [[True, 0.2], [0.5, 0.5]]}], "must be a number"),
        ([{**ARROW, "points": [[0.1, 0.2, 0.3], [0.5, 0.5]]}], "[x, y] pair"),
        ([{**ARROW, "points": "0.1,0.2"}], "list of [x, y] pairs"),
        ([{**ARROW, "width": 3}], "exactly kind, color and points"),
        ([{**FREEHAND, "points": [[0.5, 0.5]] * (MAX_FREEHAND_POINTS + 1)}], "2 to 400"),
        ([{**FREEHAND, "points": [[0.5, 0.5]] * 300}] * 7, "at most 2000 points"),
        (["arrow"], "must be an object"),
    ],
)
def test_a_malformed_drawing_gets_a_clear_400(school_a, drawing, words):
    reply = _reply(school_a)
    response = _post(client_for(school_a.teacher, school_a.host), reply, drawing=drawing)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "drawing_invalid"
    assert words in response.json()["message"]
    with tenant_context(school_a.tenant):
        assert not Comment.objects.filter(reply=reply).exists()


def test_non_finite_and_huge_numbers_are_refused():
    for value in (float("nan"), float("inf"), 10**400):
        with pytest.raises(ValueError, match="between 0 and 1"):
            clean_drawing([{**ARROW, "points": [[value, 0], [0, 0]]}])


def test_students_do_not_draw_and_nobody_draws_on_a_sound_only_side_or_an_answer(school_a):
    reply = _reply(school_a)
    student = client_for(school_a.student, school_a.host)
    refused = _post(student, reply, drawing=[ARROW])
    assert refused.status_code == 403
    assert refused.json()["code"] == "drawing_forbidden"
    assert _post(student, reply).status_code == 201  # a question without a drawing is fine

    teacher = client_for(school_a.teacher, school_a.host)
    audio = _reply(school_a, reply_video=False)
    sound_only = _post(teacher, audio, drawing=[ARROW])
    assert sound_only.status_code == 400
    assert "no picture" in sound_only.json()["message"]
    assert _post(teacher, audio, side="demonstration", drawing=[ARROW]).status_code == 201

    parent = _post(teacher, reply).json()["public_id"]
    answer = _post(teacher, reply, parent=parent, drawing=[ARROW])
    assert answer.status_code == 400
    assert "not on an answer" in answer.json()["message"]


def _list_queries(client, reply) -> int:
    url = f"/api/v1/replies/{reply.public_id}/comments/"
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def _comments(school, reply, rows: int) -> None:
    with tenant_context(school.tenant):
        for n in range(rows):
            thread = CommentFactory(
                reply=reply, author=school.teacher, at_ms=100 * n, drawing=[ARROW, FREEHAND]
            )
            CommentFactory(reply=reply, author=school.student, parent=thread, at_ms=100 * n)


def test_the_comment_list_with_drawings_runs_a_constant_number_of_queries(school_a):
    reply = _reply(school_a)
    teacher = client_for(school_a.teacher, school_a.host)
    _comments(school_a, reply, 3)
    few = _list_queries(teacher, reply)
    _comments(school_a, reply, 52)
    many = _list_queries(teacher, reply)
    listed = teacher.get(f"/api/v1/replies/{reply.public_id}/comments/").json()
    assert len(listed) == 55
    assert all(len(t["drawing"]) == 2 for t in listed)
    assert many == few
