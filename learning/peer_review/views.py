"""Peer review's pages on a tenant's host: the student's list of classmates' replies to
review, and what the compare page shows a reviewer (learning.replies.views.compare)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from learning.models import Reply
from learning.pages import id_path, short_date, student_page
from learning.peer_review import selectors
from tenants.models import Membership


def compare_context(*, member: Membership, reply: Reply) -> dict | None:
    """What the compare page shows a classmate reviewing `reply`; None for its student and
    the teachers. The guide is the exercise's instructions (a rubric, once the exercise has
    one, belongs in templates/learning/compare/_peer_review.html beside them)."""
    if not selectors.is_reviewing(member=member, reply=reply):
        return None
    review = selectors.review_for(user=member.user, reply=reply)
    exercise = reply.exercise
    anonymous = exercise.peer_review_anonymous
    name = selectors.CLASSMATE if anonymous else reply.student.display_name
    return {
        "review": review,
        "anonymous": anonymous,
        "classmate": name,
        "label": "Classmate's reply" if anonymous else f"{name}'s reply",
        "guide": exercise.instructions,
    }


@student_page
def review_list(request: HttpRequest) -> HttpResponse:
    """The classmates' replies a student has to review, those to do first."""
    compare = id_path("learning:compare")
    rows = [
        {
            "url": compare(review.reply.public_id),
            "exercise": review.exercise.title,
            "classmate": selectors.classmate_name(review),
            "done": review.completed_at is not None,
            "comments": review.my_comment_count,
            "given": short_date(review.created_at),
        }
        for review in selectors.reviews_for_student(student=request.user)
    ]
    return render(request, "learning/peer_review/list.html", {"rows": rows})
