"""The compare page's alignment parts as the server renders them (compare.js fills them from
the alignment API): the auto-sync toggle and the band legend for teachers and students, the
analysis hidden from a student when the teacher hid it, and the manual sync kept with the
reason shown when the reply could not be aligned."""

from __future__ import annotations

import json

from django.utils import timezone
from django_tenants.utils import tenant_context

from learning.models import Alignment
from tests.conftest import client_for
from tests.support.factories import ReplyFactory

TIME_MAP = {"demo_ms": [0, 1000, 2000, 3000], "reply_ms": [1500, 2300, 3400, 4400]}


def _reply_with(school, **fields):
    with tenant_context(school.tenant):
        reply = ReplyFactory(student=school.student, exercise__created_by=school.teacher)
        if fields:
            Alignment.objects.create(reply=reply, computed_at=timezone.now(), **fields)
    return reply


def _ready(school, **fields):
    return _reply_with(
        school, status=Alignment.Status.READY, confidence=0.8, time_map=TIME_MAP,
        bands=[], summary={}, **fields,
    )


def _page(user, school, reply, query: str = "") -> tuple[str, dict]:
    response = client_for(user, school.host).get(f"/replies/{reply.public_id}/{query}")
    assert response.status_code == 200
    html = response.content.decode()
    config = json.loads(
        html.split('id="compare-config" type="application/json">')[1].split("</script>")[0]
    )
    return html, config


def test_teachers_and_students_get_the_toggle_legend_and_band_list(school_a):
    reply = _ready(school_a)

    for user in (school_a.teacher, school_a.student):
        html, config = _page(user, school_a, reply)

        assert "data-autosync disabled" in html  # compare.js enables it once the map loads
        assert "data-band-legend" in html and "data-band-list" in html and "data-bands" in html
        assert "data-mapped-markers" in html
        assert config["api"]["alignment"] == f"/api/v1/replies/{reply.public_id}/alignment/"
    teacher_html, _ = _page(school_a.teacher, school_a, reply)
    student_html, _ = _page(school_a.student, school_a, reply)
    assert "Show analysis to the student" in teacher_html and "data-align-summary" in teacher_html
    assert "Show analysis to the student" not in student_html
    assert "data-align-summary" not in student_html
    assert "data-align-trend" in student_html


def test_a_student_does_not_see_the_analysis_the_teacher_hid(school_a):
    reply = _ready(school_a, visible_to_student=False)

    student_html, _ = _page(school_a.student, school_a, reply)
    teacher_html, _ = _page(school_a.teacher, school_a, reply)

    assert "data-analysis-hidden" in student_html
    assert "data-band-legend" not in student_html and "data-band-list" not in student_html
    # Auto-sync is not feedback: the student keeps it.
    assert "data-autosync" in student_html
    assert "data-band-legend" in teacher_html and "data-analysis-hidden" not in teacher_html
    assert 'data-align-visible>' in teacher_html  # unchecked: hidden from the student


def test_a_reply_that_could_not_be_aligned_shows_why_and_keeps_the_manual_sync(school_a):
    reasons = {
        Alignment.Status.NOT_ALIGNED: "The reply does not seem to follow the demonstration.",
        Alignment.Status.FAILED: "Automatic alignment failed. Use the manual sync instead.",
    }
    for status, reason in reasons.items():
        reply = _reply_with(school_a, status=status, reason=reason)

        html, config = _page(school_a.teacher, school_a, reply)

        assert reason in html
        assert f'data-analysis data-status="{status}"' in html
        assert "data-nudge" in html and "data-sync" in html and config["can_sync"] is True


def test_a_reply_not_analysed_yet_says_so(school_a):
    reply = _reply_with(school_a)

    html, _ = _page(school_a.student, school_a, reply)

    assert "Analysing…" in html and 'data-status="pending"' in html


def test_comparing_two_attempts_has_no_alignment_parts(school_a):
    first = _ready(school_a)
    with tenant_context(school_a.tenant):
        second = ReplyFactory(student=school_a.student, exercise=first.exercise, attempt=2)

    html, config = _page(school_a.student, school_a, second, f"?with={first.public_id}")

    assert config["api"]["alignment"] is None
    assert "data-autosync" not in html and "data-analysis" not in html
