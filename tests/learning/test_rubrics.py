"""Rubrics and grades (issue 18): building, attaching (a copy) and editing rubrics, scoring a
reply (the grade, the review, the LTI passback), who may read and write, the bad bodies' 400s,
the class gradebook and its CSV, and constant query counts on the new lists."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from learning.models import (
    Classroom,
    LtiGradeTarget,
    LtiRegistration,
    Reply,
    Rubric,
    RubricLevel,
    RubricScore,
)
from learning.replies import services as reply_services
from learning.rubrics import services
from tenants.models import AuditEvent, Membership, Role, User
from tests.conftest import client_for, member
from tests.support.factories import ExerciseFactory, ReplyFactory

pytestmark = pytest.mark.django_db

RUBRIC = {
    "title": "Scales",
    "description": "For scale exercises",
    "criteria": [
        {
            "title": "Intonation",
            "levels": [
                {"title": "Often out of tune", "points": "0"},
                {"title": "Mostly in tune", "points": "2"},
                {"title": "In tune", "points": "4"},
            ],
        },
        {
            "title": "Rhythm",
            "description": "Even notes",
            "levels": [
                {"title": "Uneven", "points": "0"},
                {"title": "Even", "points": "1.5"},
            ],
        },
    ],
}


def _api(client, method: str, path: str, body=None):
    return getattr(client, method)(
        path, data=json.dumps(body) if body is not None else None, content_type="application/json"
    )


def _exercise_and_reply(school, **reply_fields):
    with tenant_context(school.tenant):
        exercise = ExerciseFactory(created_by=school.teacher)
        reply = ReplyFactory(exercise=exercise, student=school.student, **reply_fields)
    return exercise, reply


def _attached(school, exercise) -> dict:
    teacher = client_for(school.teacher, school.host)
    response = _api(
        teacher, "post", "/api/v1/rubrics/", {**RUBRIC, "exercise": str(exercise.public_id)}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _picks(rubric: dict, choice: list[int]) -> list[dict]:
    return [
        {"criterion": c["public_id"], "level": c["levels"][i]["public_id"], "note": f"n{i}"}
        for c, i in zip(rubric["criteria"], choice, strict=True)
    ]


# --- Building and attaching ---------------------------------------------------------------


def test_a_teacher_builds_a_library_rubric_and_attaching_it_makes_an_independent_copy(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    created = _api(teacher, "post", "/api/v1/rubrics/", RUBRIC)
    assert created.status_code == 201, created.json()
    template = created.json()
    assert template["is_template"] is True and template["exercise"] is None
    assert template["maximum"] == 5.5
    assert [c["title"] for c in template["criteria"]] == ["Intonation", "Rhythm"]
    assert [lv["points"] for lv in template["criteria"][1]["levels"]] == [0.0, 1.5]

    # Every teacher of the tenant sees the library (the owner too).
    owner = client_for(school_a.owner, school_a.host)
    listed = owner.get("/api/v1/rubrics/?library=true").json()
    assert template["public_id"] in [r["public_id"] for r in listed["results"]]

    exercise, _ = _exercise_and_reply(school_a)
    copy = _api(
        teacher,
        "post",
        f"/api/v1/rubrics/{template['public_id']}/copy/",
        {"exercise": str(exercise.public_id)},
    )
    assert copy.status_code == 201, copy.json()
    attached = copy.json()
    assert attached["exercise"] == str(exercise.public_id) and not attached["is_template"]
    assert attached["public_id"] != template["public_id"]

    # Editing the library leaves the exercise's copy as it was.
    edited = {**RUBRIC, "title": "Scales (new)", "criteria": RUBRIC["criteria"][:1]}
    assert (
        _api(teacher, "put", f"/api/v1/rubrics/{template['public_id']}/", edited).status_code == 200
    )
    mine = teacher.get(f"/api/v1/exercises/{exercise.public_id}/rubric/").json()
    assert mine["title"] == "Scales" and len(mine["criteria"]) == 2

    # The student it is assigned to reads it before recording; the exercise page shows it.
    student = client_for(school_a.student, school_a.host)
    assert (
        student.get(f"/api/v1/exercises/{exercise.public_id}/rubric/").json()["title"] == "Scales"
    )
    page = student.get(f"/exercises/{exercise.public_id}/").content.decode()
    assert "How your teacher will score it" in page and "Mostly in tune" in page
    # ... but not the library or a rubric by its id.
    assert student.get("/api/v1/rubrics/").status_code == 403
    assert student.get(f"/api/v1/rubrics/{template['public_id']}/").status_code == 404


def test_the_rubric_pages_render_for_teachers_only(school_a):
    exercise, _ = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    assert "Rubric library" in teacher.get("/teach/rubrics/").content.decode()
    assert teacher.get("/teach/rubrics/new/").status_code == 200
    editor = teacher.get(f"/teach/rubrics/{rubric['public_id']}/")
    assert editor.status_code == 200 and b"rubric-editor-config" in editor.content
    detail = teacher.get(f"/teach/exercises/{exercise.public_id}/").content.decode()
    assert "Edit rubric" in detail and "Intonation" in detail
    student = client_for(school_a.student, school_a.host)
    assert student.get("/teach/rubrics/").status_code == 403


def test_attaching_from_the_library_page_form_replaces_an_unscored_rubric(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    template = _api(teacher, "post", "/api/v1/rubrics/", {**RUBRIC, "title": "Library one"}).json()
    exercise, _ = _exercise_and_reply(school_a)
    _attached(school_a, exercise)
    response = teacher.post(
        f"/teach/exercises/{exercise.public_id}/rubric/", {"rubric": template["public_id"]}
    )
    assert response.status_code == 302
    with tenant_context(school_a.tenant):
        rubric = Rubric.objects.get(exercise=exercise)
        assert (
            rubric.title == "Library one"
            and str(rubric.copied_from.public_id) == (template["public_id"])
        )


# --- Scoring ------------------------------------------------------------------------------


def test_scoring_fills_the_grade_reviews_the_reply_and_the_student_reads_it(school_a):
    exercise, reply = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    path = f"/api/v1/replies/{reply.public_id}/scores/"
    response = _api(teacher, "put", path, {"scores": _picks(rubric, [1, 1])})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["score_given"], body["score_maximum"]) == (3.5, 5.5)
    assert [s["level_title"] for s in body["scores"]] == ["Mostly in tune", "Even"]
    with tenant_context(school_a.tenant):
        reply.refresh_from_db()
        assert reply.status == Reply.Status.REVIEWED and reply.reviewed_by_id == school_a.teacher.pk
        assert (reply.score_given, reply.score_maximum) == (3.5, 5.5)

    event = AuditEvent.objects.filter(tenant=school_a.tenant, action="grade.scored").latest("pk")
    assert event.actor_id == school_a.teacher.pk
    assert event.data == {
        "reply": str(reply.public_id),
        "student": school_a.student.email,
        "score": "3.5 of 5.5",
    }

    # Scoring again replaces the scores.
    again = _api(teacher, "put", path, {"scores": _picks(rubric, [2, 0])}).json()
    assert (again["score_given"], again["score_maximum"]) == (4.0, 5.5)

    student = client_for(school_a.student, school_a.host)
    mine = student.get(path)
    assert mine.status_code == 200 and mine.json()["score_given"] == 4.0
    page = student.get(f"/replies/{reply.public_id}/").content.decode()
    assert "data-rubric-scores" in page and "In tune" in page
    # The student cannot score, a classmate cannot read, another school does not know it.
    assert _api(student, "put", path, {"scores": _picks(rubric, [2, 1])}).status_code == 403
    assert client_for(school_a.other_student, school_a.host).get(path).status_code == 404


def test_a_review_of_an_exercise_with_a_rubric_gives_no_one_of_one(school_a):
    exercise, reply = _exercise_and_reply(school_a)
    _attached(school_a, exercise)
    with tenant_context(school_a.tenant):
        reply_services.reply_review(
            member=member(school_a.teacher, school_a.tenant),
            reply=reply,
            status=Reply.Status.REVIEWED,
        )
        reply.refresh_from_db()
        assert reply.score_given is None


def test_a_rubric_score_sends_the_grade_to_the_lms_as_a_review_does(
    school_a, monkeypatch, django_capture_on_commit_callbacks
):
    from learning.lti import tasks as lti_tasks

    sent = []
    monkeypatch.setattr(lti_tasks.lti_post_score, "delay", lambda pk: sent.append(pk))
    exercise, reply = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    with tenant_context(school_a.tenant):
        registration = LtiRegistration.objects.create(
            name="LMS",
            issuer="https://lms.example.com",
            client_id="c1",
            auth_login_url="https://lms.example.com/auth",
            access_token_url="https://lms.example.com/token",
            jwks_url="https://lms.example.com/jwks",
            tool_private_key="-",
            tool_public_key="-",
            tool_kid="rubric-test-kid",
        )
        LtiGradeTarget.objects.create(
            registration=registration,
            exercise=exercise,
            user=school_a.student,
            sub="learner-1",
            lineitem_url="https://lms.example.com/lineitems/1",
        )
    teacher = client_for(school_a.teacher, school_a.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = _api(
            teacher,
            "put",
            f"/api/v1/replies/{reply.public_id}/scores/",
            {"scores": _picks(rubric, [2, 1])},
        )
    assert response.status_code == 200
    assert sent == [reply.pk]


def test_the_compare_pages_form_scores_without_scripts(school_a):
    exercise, reply = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    page = teacher.get(f"/replies/{reply.public_id}/").content.decode()
    assert "data-rubric-form" in page
    form = {f"level-{c['public_id']}": c["levels"][0]["public_id"] for c in rubric["criteria"]}
    response = teacher.post(f"/replies/{reply.public_id}/scores/", form)
    assert response.status_code == 302
    with tenant_context(school_a.tenant):
        reply.refresh_from_db()
        assert (reply.score_given, reply.score_maximum) == (0.0, 5.5)


# --- Bad bodies ---------------------------------------------------------------------------


def test_bad_score_bodies_get_a_clear_400(school_a):
    exercise, reply = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    other_exercise, _ = _exercise_and_reply(school_a)
    other = _attached(school_a, other_exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    path = f"/api/v1/replies/{reply.public_id}/scores/"
    intonation, rhythm = rubric["criteria"]

    def put(scores):
        response = _api(teacher, "put", path, {"scores": scores})
        assert response.status_code == 400, response.content
        return response.json()["code"]

    # A level of another criterion.
    assert (
        put(
            [
                {"criterion": intonation["public_id"], "level": rhythm["levels"][0]["public_id"]},
                {"criterion": rhythm["public_id"], "level": rhythm["levels"][0]["public_id"]},
            ]
        )
        == "level_mismatch"
    )
    # A criterion (and level) of another rubric.
    assert put(_picks(other, [0, 0])) == "criterion_invalid"
    # A level of another rubric's same-named criterion.
    assert (
        put(
            [
                {
                    "criterion": intonation["public_id"],
                    "level": other["criteria"][0]["levels"][0]["public_id"],
                },
                {"criterion": rhythm["public_id"], "level": rhythm["levels"][0]["public_id"]},
            ]
        )
        == "level_mismatch"
    )
    assert put(_picks(rubric, [0, 0])[:1]) == "criteria_missing"
    assert put(_picks(rubric, [0, 0]) + _picks(rubric, [1, 1])[:1]) == "criterion_repeated"
    assert put([{"criterion": "not-a-uuid", "level": "x"}]) == "invalid"
    assert _api(teacher, "put", path, {"scores": "nope"}).status_code == 400
    with tenant_context(school_a.tenant):
        assert not RubricScore.objects.filter(reply=reply).exists()

    # An exercise without a rubric.
    _, bare = _exercise_and_reply(school_a)
    response = _api(teacher, "put", f"/api/v1/replies/{bare.public_id}/scores/", {"scores": []})
    assert response.status_code == 400 and response.json()["code"] == "no_rubric"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda r: {**r, "title": " "}, "title_required"),
        (lambda r: {**r, "criteria": []}, "criteria_required"),
        (lambda r: {**r, "criteria": [{"title": "A", "levels": []}]}, "levels_required"),
        (
            lambda r: {
                **r,
                "criteria": [{"title": "A", "levels": [{"title": "x", "points": "0"}]}],
            },
            "maximum_zero",
        ),
        (
            lambda r: {
                **r,
                "criteria": [{"title": "A", "levels": [{"title": "x", "points": "-1"}]}],
            },
            "invalid",
        ),
        (
            lambda r: {
                **r,
                "criteria": [{"title": "A", "levels": [{"title": "x", "points": "1e9"}]}],
            },
            "invalid",
        ),
    ],
)
def test_bad_rubric_bodies_get_a_clear_400(school_a, change, code):
    teacher = client_for(school_a.teacher, school_a.host)
    response = _api(teacher, "post", "/api/v1/rubrics/", change(RUBRIC))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code


def test_an_edit_naming_a_level_of_another_rubric_is_refused(school_a):
    exercise, _ = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    other_exercise, _ = _exercise_and_reply(school_a)
    other = _attached(school_a, other_exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    body = json.loads(json.dumps(rubric))
    body["criteria"][0]["levels"][0]["public_id"] = other["criteria"][0]["levels"][0]["public_id"]
    response = _api(teacher, "put", f"/api/v1/rubrics/{rubric['public_id']}/", body)
    assert response.status_code == 400 and response.json()["code"] == "level_invalid"
    # A level moved to another criterion of the same rubric is refused too.
    body = json.loads(json.dumps(rubric))
    body["criteria"][1]["levels"].append(body["criteria"][0]["levels"].pop())
    response = _api(teacher, "put", f"/api/v1/rubrics/{rubric['public_id']}/", body)
    assert response.status_code == 400 and response.json()["code"] == "level_invalid"


def test_a_rubric_with_scores_keeps_its_levels_and_points(school_a):
    exercise, reply = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    teacher = client_for(school_a.teacher, school_a.host)
    assert (
        _api(
            teacher,
            "put",
            f"/api/v1/replies/{reply.public_id}/scores/",
            {"scores": _picks(rubric, [2, 1])},
        ).status_code
        == 200
    )
    path = f"/api/v1/rubrics/{rubric['public_id']}/"

    body = json.loads(json.dumps(rubric))
    body["criteria"][0]["levels"].pop()  # the scored level
    response = _api(teacher, "put", path, body)
    assert response.status_code == 400 and response.json()["code"] == "rubric_in_use"
    body = json.loads(json.dumps(rubric))
    body["criteria"][0]["levels"][2]["points"] = "10"
    assert _api(teacher, "put", path, body).json()["code"] == "rubric_in_use"
    assert teacher.delete(path).json()["code"] == "rubric_in_use"

    # Its wording may change.
    body = json.loads(json.dumps(rubric))
    body["title"] = "Scales, reworded"
    body["criteria"][0]["levels"][2]["title"] = "Beautifully in tune"
    assert _api(teacher, "put", path, body).status_code == 200
    scores = teacher.get(f"/api/v1/replies/{reply.public_id}/scores/").json()
    assert scores["scores"][0]["level_title"] == "Beautifully in tune"
    assert scores["score_given"] == 5.5

    # Deleting the exercise takes the rubric and the scores with it (RESTRICT only guards
    # the levels while their scores remain).
    with tenant_context(school_a.tenant):
        exercise.delete()
        assert not RubricLevel.objects.filter(
            criterion__rubric__public_id=rubric["public_id"]
        ).exists()


def test_other_tenants_get_404(school_a, school_b):
    exercise, reply = _exercise_and_reply(school_a)
    rubric = _attached(school_a, exercise)
    with tenant_context(school_a.tenant):
        classroom = Classroom.objects.create(name="Violins A")
    outsider = client_for(school_b.teacher, school_b.host)
    for path in [
        f"/api/v1/rubrics/{rubric['public_id']}/",
        f"/api/v1/exercises/{exercise.public_id}/rubric/",
        f"/api/v1/replies/{reply.public_id}/scores/",
        f"/api/v1/classes/{classroom.public_id}/gradebook/",
        f"/teach/rubrics/{rubric['public_id']}/",
        f"/teach/classes/{classroom.public_id}/gradebook/",
        f"/teach/classes/{classroom.public_id}/gradebook.csv",
    ]:
        assert outsider.get(path).status_code == 404, path
    assert (
        _api(
            outsider,
            "put",
            f"/api/v1/replies/{reply.public_id}/scores/",
            {"scores": _picks(rubric, [0, 0])},
        ).status_code
        == 404
    )
    assert outsider.get("/api/v1/rubrics/").json()["count"] == 0 or rubric["public_id"] not in [
        r["public_id"] for r in outsider.get("/api/v1/rubrics/").json()["results"]
    ]
    # A member of school A asking school B's host is not a member there.
    assert client_for(school_a.teacher, school_b.host).get("/api/v1/rubrics/").status_code in (
        401,
        403,
    )


# --- The gradebook ------------------------------------------------------------------------


def _score(school, reply, points: list[int], rubric: dict) -> None:
    teacher = client_for(school.teacher, school.host)
    response = _api(
        teacher,
        "put",
        f"/api/v1/replies/{reply.public_id}/scores/",
        {"scores": _picks(rubric, points)},
    )
    assert response.status_code == 200, response.json()


def test_the_gradebook_csv_has_the_latest_scored_attempts_and_the_totals(school_a):
    with tenant_context(school_a.tenant):
        # A fresh copy: the session's shared user object must keep its name for other tests.
        named = User.objects.get(pk=school_a.student.pk)
        named.full_name = "=HYPERLINK(1)"
        named.save(update_fields=["full_name"])
        classroom = Classroom.objects.create(name="Grade 3 violins")
        classroom.students.add(school_a.student, school_a.other_student)
        classroom.teachers.add(school_a.teacher)
        scales = ExerciseFactory(created_by=school_a.teacher, title="Scales", assign_to_all=False)
        scales.assigned_classes.add(classroom)
        etude = ExerciseFactory(created_by=school_a.teacher, title="-Etude", assign_to_all=False)
        etude.assigned_classes.add(classroom)
        # Not the class's: neither assigned to it nor to everyone.
        ExerciseFactory(created_by=school_a.teacher, title="Elsewhere", assign_to_all=False)
        first = ReplyFactory(exercise=scales, student=school_a.student, attempt=1)
        second = ReplyFactory(exercise=scales, student=school_a.student, attempt=2)
        ReplyFactory(exercise=scales, student=school_a.student, attempt=3)  # not scored yet
        etude_reply = ReplyFactory(exercise=etude, student=school_a.student, attempt=1)
    rubric = _attached(school_a, scales)
    _score(school_a, first, [2, 1], rubric)  # 5.5 of 5.5, but attempt 2 is later
    _score(school_a, second, [1, 1], rubric)  # 3.5 of 5.5: counts
    with tenant_context(school_a.tenant):
        reply_services.reply_review(
            member=member(school_a.teacher, school_a.tenant),
            reply=etude_reply,
            status=Reply.Status.REVIEWED,
        )  # no rubric: 1 of 1
    teacher = client_for(school_a.teacher, school_a.host)
    response = teacher.get(f"/teach/classes/{classroom.public_id}/gradebook.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "student", "email", "Scales", "Scales (out of)", "'-Etude", "'-Etude (out of)",
        "total", "total out of", "percent",
    ]  # fmt: skip
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email[school_a.student.email] == [
        "'=HYPERLINK(1)", school_a.student.email, "3.5", "5.5", "1", "1", "4.5", "6.5", "69.2",
    ]  # fmt: skip
    other = by_email[school_a.other_student.email]
    assert other[2:] == ["", "", "", "", "0", "0", ""]

    api = teacher.get(f"/api/v1/classes/{classroom.public_id}/gradebook/").json()
    assert api["counted_attempt"] == "latest_scored"
    mine = next(
        r for r in api["rows"] if r["student"]["public_id"] == str(school_a.student.public_id)
    )
    assert [g["attempt"] for g in mine["grades"]] == [2, 1]
    assert (mine["total_given"], mine["total_maximum"], mine["percent"]) == (4.5, 6.5, 69.2)
    page = teacher.get(f"/teach/classes/{classroom.public_id}/gradebook/").content.decode()
    assert "3.5/5.5" in page and "4.5/6.5" in page
    student = client_for(school_a.student, school_a.host)
    assert student.get(f"/teach/classes/{classroom.public_id}/gradebook.csv").status_code == 403
    assert student.get(f"/api/v1/classes/{classroom.public_id}/gradebook/").status_code == 403
    # A teacher of the school who does not teach the class (learning.coteachers) finds no
    # gradebook; the school's admins read every class's.
    with tenant_context(school_a.tenant):
        classroom.teachers.remove(school_a.teacher)
    for path in (
        f"/teach/classes/{classroom.public_id}/gradebook/",
        f"/teach/classes/{classroom.public_id}/gradebook.csv",
        f"/api/v1/classes/{classroom.public_id}/gradebook/",
    ):
        assert teacher.get(path).status_code == 404, path
    admin = client_for(school_a.owner, school_a.host)
    assert admin.get(f"/teach/classes/{classroom.public_id}/gradebook.csv").status_code == 200


# --- Query counts -------------------------------------------------------------------------


def _seed(school, classroom, n: int) -> None:
    """n more students in the class, each with a scored reply to a new exercise with a rubric,
    and n more library rubrics."""
    with tenant_context(school.tenant):
        start = classroom.students.count()
        teacher = member(school.teacher, school.tenant)
        for i in range(start, start + n):
            user = User.objects.create_user(email=f"grade{i}@{school.tenant.slug}.example.com")
            Membership.objects.create(user=user, tenant=school.tenant, role=Role.STUDENT)
            classroom.students.add(user)
            exercise = ExerciseFactory(created_by=school.teacher)
            reply = ReplyFactory(exercise=exercise, student=user, attempt=1)
            rubric = services.rubric_create(
                member=teacher,
                title=f"Rubric {i}",
                exercise=exercise,
                criteria=[
                    services.CriterionData(
                        title="Tone",
                        levels=[
                            services.LevelData(title="Thin", points=1),
                            services.LevelData(title="Full", points=2),
                        ],
                    )
                ],
            )
            level = RubricLevel.objects.filter(criterion__rubric=rubric).order_by("points").last()
            services.reply_score(
                member=teacher,
                reply=reply,
                scores=[
                    services.ScoreData(criterion=level.criterion.public_id, level=level.public_id)
                ],
            )
            services.rubric_copy(member=teacher, rubric=rubric)


def _counts(school, classroom, reply) -> dict[str, int]:
    counts = {}
    teacher = client_for(school.teacher, school.host)
    for path in [
        f"/teach/classes/{classroom.public_id}/gradebook/",
        f"/teach/classes/{classroom.public_id}/gradebook.csv",
        f"/api/v1/classes/{classroom.public_id}/gradebook/",
        "/api/v1/rubrics/",
        "/api/v1/rubrics/?library=true",
        "/teach/rubrics/",
        f"/api/v1/replies/{reply.public_id}/scores/",
    ]:
        teacher.get(path)  # the first request of a session also records the member's activity
        with CaptureQueriesContext(connection) as queries:
            response = teacher.get(path)
        assert response.status_code == 200, path
        counts[path] = len(queries)
    return counts


def test_the_gradebook_and_the_new_lists_run_a_constant_number_of_queries(school_a):
    with tenant_context(school_a.tenant):
        classroom = Classroom.objects.create(name="Counted")
        classroom.teachers.add(school_a.teacher)
    _seed(school_a, classroom, 3)
    with tenant_context(school_a.tenant):
        reply = Reply.objects.filter(student__in=classroom.students.all()).first()
    few = _counts(school_a, classroom, reply)
    _seed(school_a, classroom, 52)
    many = _counts(school_a, classroom, reply)
    with tenant_context(school_a.tenant):
        assert classroom.students.count() == 55
        assert Rubric.objects.filter(is_template=True).count() >= 55
    assert few == many


def _rubric_of(school, criteria: int):
    """An exercise whose rubric has `criteria` criteria of three levels, its reply scored."""
    exercise, reply = _exercise_and_reply(school)
    with tenant_context(school.tenant):
        teacher = member(school.teacher, school.tenant)
        rubric = services.rubric_create(
            member=teacher,
            title=f"{criteria} criteria",
            exercise=exercise,
            criteria=[
                services.CriterionData(
                    title=f"Criterion {i}",
                    levels=[services.LevelData(title=f"L{p}", points=p) for p in (0, 1, 2)],
                )
                for i in range(criteria)
            ],
        )
        services.reply_score(
            member=teacher,
            reply=reply,
            scores=[
                services.ScoreData(
                    criterion=c.public_id, level=c.levels.last().public_id, note="ok"
                )
                for c in rubric.criteria.all()
            ],
        )
    return exercise, reply, rubric


def _rubric_counts(school, exercise, reply, rubric) -> list[int]:
    counts = []
    for user, path in [
        (school.teacher, f"/api/v1/replies/{reply.public_id}/scores/"),
        (school.student, f"/api/v1/replies/{reply.public_id}/scores/"),
        (school.student, f"/api/v1/exercises/{exercise.public_id}/rubric/"),
        (school.teacher, f"/api/v1/rubrics/{rubric.public_id}/"),
        (school.teacher, f"/replies/{reply.public_id}/"),
        (school.student, f"/replies/{reply.public_id}/"),
        (school.student, f"/exercises/{exercise.public_id}/"),
        (school.teacher, f"/teach/exercises/{exercise.public_id}/"),
        (school.teacher, f"/teach/rubrics/{rubric.public_id}/"),
    ]:
        client = client_for(user, school.host)
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200, path
        counts.append(len(queries))
    return counts


def test_a_rubrics_criteria_and_scores_cost_no_queries_per_row(school_a):
    few = _rubric_counts(school_a, *_rubric_of(school_a, 3))
    many = _rubric_counts(school_a, *_rubric_of(school_a, services.MAX_CRITERIA))
    assert few == many
