"""Every tenant page runs at most six SQL statements once its caches are warm, counting
`SET search_path` (tests.support.sql_count), in a school of 1,000 students and 10,000 replies."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from learning.models import Exercise, Reply
from tests.conftest import client_for
from tests.support import scale
from tests.support.sql_count import count_statements

BUDGET = 6


@pytest.fixture
def seeded(school_a):
    scale.seed(tenant=school_a.tenant, teacher=school_a.teacher, students=1000, replies=10000)
    with tenant_context(school_a.tenant):
        exercise = Exercise.objects.filter(assign_to_all=True, status="published").first()
        reply = Reply.objects.order_by("pk").first()
    return school_a, exercise, reply


def _pages(school, exercise, reply, public_host):
    teacher = client_for(school.teacher, school.host)
    student = client_for(school.student, school.host)
    return {
        "teacher_dashboard": (teacher, "/dashboard/"),
        "student_dashboard": (student, "/dashboard/"),
        "teacher_exercises": (teacher, "/teach/exercises/"),
        "inbox": (teacher, "/teach/inbox/"),
        "student_exercise": (student, f"/exercises/{exercise.public_id}/"),
        "compare": (teacher, f"/replies/{reply.public_id}/"),
        "login": (Client(HTTP_HOST=school.host), "/accounts/login/"),
        "public_home": (Client(HTTP_HOST=public_host), "/"),
    }


def test_every_tenant_page_keeps_to_the_statement_budget(seeded, public_host):
    school, exercise, reply = seeded
    counts = {}
    for name, (client, path) in _pages(school, exercise, reply, public_host).items():
        # The first visits fill the caches (and record the member's activity).
        for _ in range(2):
            assert client.get(path).status_code == 200, name
        with count_statements() as statements:
            assert client.get(path).status_code == 200, name
        counts[name] = statements
    over = {name: s for name, s in counts.items() if len(s) > BUDGET}
    assert not over, over
    # One SET search_path per request at most, not one per query.
    for name, statements in counts.items():
        assert sum(s.startswith("SET search_path") for s in statements) <= 1, (name, statements)


def test_the_inbox_shows_a_page_of_the_waiting_replies(school_a):
    school = school_a
    scale.seed(tenant=school.tenant, teacher=school.teacher, students=60, replies=300)
    teacher = client_for(school.teacher, school.host)
    with tenant_context(school.tenant):
        waiting = Reply.objects.filter(status=Reply.Status.SUBMITTED).count()
    first = teacher.get("/teach/inbox/").content.decode()
    assert f"{waiting} waiting" in first
    assert first.count('class="item"') == 50
    last = teacher.get(f"/teach/inbox/?page={(waiting + 49) // 50}").content.decode()
    assert last.count('class="item"') == waiting - 50 * ((waiting - 1) // 50)


def test_the_exercise_list_counts_each_exercises_replies(school_a):
    school = school_a
    scale.seed(tenant=school.tenant, teacher=school.teacher, students=60, replies=300)
    from learning.exercises import selectors

    with tenant_context(school.tenant):
        counts = {e.pk: e.reply_count for e in selectors.exercises_for_teacher()}
        for exercise in Exercise.objects.all():
            assert counts[exercise.pk] == Reply.objects.filter(exercise=exercise).count()
