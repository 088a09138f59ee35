"""Peer review (learning.peer_review): each student who sends a reply gets exactly N
classmates' replies to review, never their own and never the same classmate twice, balanced
across replies and safe under concurrent hand-outs; the assignment is the only thing that opens
a classmate's reply (page, API, comments, alignment, media URL); anonymous reviews hide names
both ways; teachers see peer comments marked and hide them from students."""

from __future__ import annotations

import threading
from collections import Counter

from django.db import connection
from django_tenants.utils import tenant_context

from analytics.models import Notification
from learning.models import Exercise, MediaFile, PeerReview, Reply
from learning.peer_review import services as peer_services
from learning.replies import services as reply_services
from tenants.models import Membership, Role, User
from tests.conftest import client_for, member
from tests.support.factories import ExerciseFactory, MediaFileFactory, ReplyFactory
from tests.support.sql_count import count_statements


def _classmates(school, n: int) -> list[User]:
    """The school's two students and n - 2 more (rolled back with the test)."""
    users = [school.student, school.other_student]
    for i in range(n - 2):
        user = User.objects.create_user(
            email=f"peer{i}@{school.tenant.slug}.example.com", full_name=f"Peer Person {i}"
        )
        Membership.objects.create(user=user, tenant=school.tenant, role=Role.STUDENT)
        users.append(user)
    return users


def _send(school, exercise: Exercise, student: User) -> Reply:
    """The student sends a reply through the real service, its recording ready."""
    with tenant_context(school.tenant):
        media = MediaFileFactory(owner=student)
        return reply_services.reply_create(
            member=member(student, school.tenant), exercise=exercise, media=media
        )


def _draft(school, exercise: Exercise, student: User) -> Reply:
    """A reply whose recording failed in processing: the student's draft, not sent."""
    with tenant_context(school.tenant):
        media = MediaFileFactory(owner=student, state=MediaFile.State.UPLOADED)
        reply = reply_services.reply_create(
            member=member(student, school.tenant), exercise=exercise, media=media
        )
        MediaFile.objects.filter(pk=media.pk).update(state=MediaFile.State.FAILED)
        return reply


def _exercise(school, *, count: int, anonymous: bool = True) -> Exercise:
    with tenant_context(school.tenant):
        return ExerciseFactory(
            created_by=school.teacher, peer_review_count=count, peer_review_anonymous=anonymous
        )


def _reviews(school, exercise: Exercise) -> list[PeerReview]:
    with tenant_context(school.tenant):
        return list(PeerReview.objects.filter(exercise=exercise).select_related("reply"))


def _assert_exact(reviews: list[PeerReview], students: list[User], n: int) -> None:
    by_reviewer: dict[int, list[PeerReview]] = {}
    for review in reviews:
        by_reviewer.setdefault(review.reviewer_id, []).append(review)
        assert review.reviewer_id != review.reviewee_id
        assert review.reply.student_id == review.reviewee_id
    for student in students:
        mine = by_reviewer.get(student.pk, [])
        assert len(mine) == n, (student, mine)
        assert len({r.reviewee_id for r in mine}) == n  # never the same classmate twice


# --- Handing out ---------------------------------------------------------------------------


def test_each_student_gets_exactly_n_classmates_replies_never_their_own_balanced(school_a):
    # Given an exercise asking for 2 peer reviews and five students
    exercise = _exercise(school_a, count=2)
    students = _classmates(school_a, 5)

    # When the first sends a reply, nobody else has replied: nothing to review yet
    _send(school_a, exercise, students[0])
    assert _reviews(school_a, exercise) == []

    # When the second sends one, both review each other (the first is topped up on arrival)
    _send(school_a, exercise, students[1])
    pairs = {(r.reviewer_id, r.reviewee_id) for r in _reviews(school_a, exercise)}
    assert pairs == {(students[0].pk, students[1].pk), (students[1].pk, students[0].pk)}

    # And a draft (a recording that failed) is no reply: it gives and gets no review
    _draft(school_a, exercise, students[2])
    assert len(_reviews(school_a, exercise)) == 2

    # When every student has sent a real reply (the third after their draft, the first twice)
    for student in students[2:]:
        _send(school_a, exercise, student)
    _send(school_a, exercise, students[0])

    # Then each has exactly two classmates' replies, never their own, never one twice
    reviews = _reviews(school_a, exercise)
    _assert_exact(reviews, students, 2)
    # And each hand-out went to the replies with the fewest reviewers: the fourth reply got
    # the last student's review, and the last reply none, as everyone before was full (the
    # limit of handing out at once; all sent before the hand-out, every reply gets N below)
    received = Counter(r.reviewee_id for r in reviews)
    assert [received[s.pk] for s in students] == [3, 3, 3, 1, 0]
    # And the second attempt changed nobody's task: the first attempt is what was reviewed
    first = {r.reply_id for r in reviews if r.reviewee_id == students[0].pk}
    with tenant_context(school_a.tenant):
        assert first == {Reply.objects.get(exercise=exercise, student=students[0], attempt=1).pk}
    # And nobody is reviewed on a draft
    assert all(r.reply.media_id for r in reviews)
    with tenant_context(school_a.tenant):
        assert not PeerReview.objects.filter(reply__media__state=MediaFile.State.FAILED).exists()


def test_a_classmate_outside_the_exercise_is_neither_reviewer_nor_reviewed(school_a):
    # Given an exercise for one class of three (peer review on) and a student outside it
    students = _classmates(school_a, 4)
    with tenant_context(school_a.tenant):
        from learning.models import Classroom

        exercise = ExerciseFactory(
            created_by=school_a.teacher, assign_to_all=False, peer_review_count=3
        )
        classroom = Classroom.objects.create(name="Peer class", created_by=school_a.teacher)
        classroom.students.set(students[:3])
        exercise.assigned_classes.set([classroom])
    for student in students[:3]:
        _send(school_a, exercise, student)
    # When the outsider's reply exists (made directly: the service refuses them)
    with tenant_context(school_a.tenant):
        ReplyFactory(exercise=exercise, student=students[3], attempt=1)
        peer_services.peer_reviews_assign(exercise=exercise)

    # Then the three review each other only (two each: fewer classmates than N, topped up later)
    reviews = _reviews(school_a, exercise)
    assert {r.reviewer_id for r in reviews} | {r.reviewee_id for r in reviews} == {
        s.pk for s in students[:3]
    }
    _assert_exact(reviews, students[:3], 2)


def test_turning_peer_review_on_later_hands_out_replies_already_sent(school_a):
    exercise = _exercise(school_a, count=0)
    students = _classmates(school_a, 3)
    for student in students:
        _send(school_a, exercise, student)
    assert _reviews(school_a, exercise) == []

    # When the teacher asks for one review each through the API
    teacher = client_for(school_a.teacher, school_a.host)
    body = {"title": exercise.title, "peer_review_count": 1, "peer_review_anonymous": False}
    response = teacher.put(
        f"/api/v1/exercises/{exercise.public_id}/", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["peer_review_count"] == 1
    assert response.json()["peer_review_anonymous"] is False

    # Then every student has one classmate's reply, and each reply one reviewer
    reviews = _reviews(school_a, exercise)
    _assert_exact(reviews, students, 1)
    assert sorted(Counter(r.reviewee_id for r in reviews).values()) == [1, 1, 1]
    # And raised to two, each gets a second classmate, every reply a second reviewer
    body["peer_review_count"] = 2
    teacher.put(f"/api/v1/exercises/{exercise.public_id}/", body, content_type="application/json")
    reviews = _reviews(school_a, exercise)
    _assert_exact(reviews, students, 2)
    assert sorted(Counter(r.reviewee_id for r in reviews).values()) == [2, 2, 2]

    # And a count out of range is a 400 in the API's error shape, and changes nothing
    body["peer_review_count"] = 11
    refused = teacher.put(
        f"/api/v1/exercises/{exercise.public_id}/", body, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "code" in refused.json()
    # And students may not set it
    student = client_for(students[0], school_a.host)
    assert student.put(
        f"/api/v1/exercises/{exercise.public_id}/", body, content_type="application/json"
    ).status_code in (403, 404)


def test_the_exercise_form_sets_peer_review(school_a):
    teacher = client_for(school_a.teacher, school_a.host)
    exercise = _exercise(school_a, count=0)
    page = teacher.get(f"/teach/exercises/{exercise.public_id}/edit/")
    assert b'name="peer_review_count"' in page.content
    response = teacher.post(
        f"/teach/exercises/{exercise.public_id}/edit/",
        {"title": exercise.title, "assign": "all", "peer_review_count": "3", "save": "1"},
    )
    assert response.status_code == 302, response.content
    with tenant_context(school_a.tenant):
        exercise.refresh_from_db()
    # An unticked box is "named"
    assert (exercise.peer_review_count, exercise.peer_review_anonymous) == (3, False)
    detail = teacher.get(f"/teach/exercises/{exercise.public_id}/").content.decode()
    assert "3 classmates each, named" in detail


# --- Who sees a classmate's reply -----------------------------------------------------------


def _urls(reply: Reply) -> dict[str, str]:
    return {
        "page": f"/replies/{reply.public_id}/",
        "api": f"/api/v1/replies/{reply.public_id}/",
        "comments": f"/api/v1/replies/{reply.public_id}/comments/",
        "alignment": f"/api/v1/replies/{reply.public_id}/alignment/",
        "media": f"/api/v1/media/{reply.media.public_id}/",
    }


def test_a_student_without_the_assignment_gets_404_for_a_classmates_reply(school_a, school_b):
    # Given three students reviewing one classmate each
    exercise = _exercise(school_a, count=1)
    students = _classmates(school_a, 3)
    replies = {s.pk: _send(school_a, exercise, s) for s in students}
    reviews = _reviews(school_a, exercise)
    given = {(r.reviewer_id, r.reply_id) for r in reviews}

    for student in students:
        client = client_for(student, school_a.host)
        for reply in replies.values():
            urls = _urls(reply)
            if reply.student_id == student.pk or (student.pk, reply.pk) in given:
                # The reply given to them (and their own) opens everywhere
                for name, url in urls.items():
                    assert client.get(url).status_code == 200, (name, url)
            else:
                # Then every other classmate's reply is a 404 on the page and the API, its
                # comments and alignment, and its recording's signed URLs
                for name, url in urls.items():
                    response = client.get(url)
                    assert response.status_code == 404, (name, url, response.status_code)
                    if name != "page":
                        assert set(response.json()) >= {"code", "message"}
                # And they cannot comment on it either
                posted = client.post(
                    urls["comments"], {"body": "hi", "at_ms": 0}, content_type="application/json"
                )
                assert posted.status_code == 404

    # And the lists stay their own: the reply given to review is not "my reply"
    client = client_for(students[0], school_a.host)
    listed = client.get("/api/v1/replies/").json()["results"]
    assert {r["public_id"] for r in listed} == {str(replies[students[0].pk].public_id)}

    # And another school's student gets 404 for all of it (not a member there)
    outsider = client_for(school_b.student, school_a.host)
    some_reply = next(iter(replies.values()))
    for url in _urls(some_reply).values():
        assert outsider.get(url).status_code in (403, 404)


def test_peer_review_off_opens_nothing(school_a):
    exercise = _exercise(school_a, count=0)
    mine = _send(school_a, exercise, school_a.student)
    theirs = _send(school_a, exercise, school_a.other_student)
    client = client_for(school_a.student, school_a.host)
    assert client.get(f"/replies/{mine.public_id}/").status_code == 200
    for url in _urls(theirs).values():
        assert client.get(url).status_code == 404


# --- Anonymous and named ------------------------------------------------------------------


def test_an_anonymous_review_hides_names_both_ways(school_a, django_capture_on_commit_callbacks):
    # Given two named students reviewing each other anonymously
    exercise = _exercise(school_a, count=1, anonymous=True)
    with tenant_context(school_a.tenant):
        User.objects.filter(pk=school_a.student.pk).update(full_name="Ada Reviewer")
        User.objects.filter(pk=school_a.other_student.pk).update(full_name="Bea Owner")
    owner_reply = _send(school_a, exercise, school_a.other_student)
    _send(school_a, exercise, school_a.student)
    reviewer = client_for(school_a.student, school_a.host)
    owner = client_for(school_a.other_student, school_a.host)

    # When the reviewer opens the classmate's reply
    page = reviewer.get(f"/replies/{owner_reply.public_id}/")
    html = page.content.decode()
    # (one reply only: the classmate's other attempt is not theirs to compare with)
    second = _send(school_a, exercise, school_a.other_student)
    assert (
        reviewer.get(f"/replies/{owner_reply.public_id}/?with={second.public_id}").status_code
        == 404
    )
    assert reviewer.get(f"/replies/{second.public_id}/").status_code == 404
    # Then the page names no one: no name, no email, and the guide is the instructions
    assert page.status_code == 200
    assert "Bea Owner" not in html and "student2@" not in html
    assert "data-peer-guide" in html and "Classmate" in html
    api = reviewer.get(f"/api/v1/replies/{owner_reply.public_id}/").json()
    assert api["student"] == {"public_id": None, "display_name": "Classmate"}
    media = reviewer.get(f"/api/v1/media/{owner_reply.media.public_id}/").json()
    assert media["original_name"] == "" and media["renditions"] is not None

    # When the reviewer comments, and the owner answers in the thread
    with django_capture_on_commit_callbacks(execute=True):
        posted = reviewer.post(
            f"/api/v1/replies/{owner_reply.public_id}/comments/",
            {"body": "Lovely tone at the start", "at_ms": 1200},
            content_type="application/json",
        )
    assert posted.status_code == 201, posted.content
    answer = owner.post(
        f"/api/v1/replies/{owner_reply.public_id}/comments/",
        {"body": "Thanks!", "at_ms": 1200, "parent": posted.json()["public_id"]},
        content_type="application/json",
    )
    assert answer.status_code == 201

    # Then the owner sees "Classmate 1", never the reviewer's name (API and notification)
    threads = owner.get(f"/api/v1/replies/{owner_reply.public_id}/comments/").json()
    assert [t["author"]["display_name"] for t in threads] == ["Classmate 1"]
    assert threads[0]["author"]["public_id"] is None and threads[0]["peer"] is True
    with tenant_context(school_a.tenant):
        note = Notification.objects.get(recipient=school_a.other_student, kind="new_comment")
    assert note.title.startswith("Classmate 1 commented") and "Ada" not in note.title
    # And the reviewer sees the owner's answer as "Classmate", their own comment as theirs
    mine = reviewer.get(f"/api/v1/replies/{owner_reply.public_id}/comments/").json()
    assert mine[0]["author"]["display_name"] == "Ada Reviewer"
    assert [c["author"]["display_name"] for c in mine[0]["replies"]] == ["Classmate"]
    # And the teacher sees both names, the comment marked as a peer review
    teacher = client_for(school_a.teacher, school_a.host)
    seen = teacher.get(f"/api/v1/replies/{owner_reply.public_id}/comments/").json()
    assert seen[0]["author"]["display_name"] == "Ada Reviewer" and seen[0]["peer"] is True

    # And the review list shows it done, without the classmate's name
    listing = reviewer.get("/api/v1/peer-reviews/").json()["results"]
    assert listing[0]["classmate"] == {"public_id": None, "display_name": "Classmate"}
    assert listing[0]["done"] is True and listing[0]["comment_count"] == 1
    page = reviewer.get("/peer-reviews/").content.decode()
    assert "Bea Owner" not in page and "data-done" in page
    # And the list is linked from the exercise's page and the dashboard
    exercise_page = reviewer.get(f"/exercises/{exercise.public_id}/").content.decode()
    assert "data-peer-review-note" in exercise_page and 'href="/peer-reviews/"' in exercise_page
    assert b"data-peer-reviews-link" in reviewer.get("/dashboard/").content
    # And teachers have no list of their own (nothing given to them)
    assert teacher.get("/api/v1/peer-reviews/").json()["count"] == 0
    assert teacher.get("/peer-reviews/").status_code == 403


def test_a_named_review_shows_names_and_a_reviewer_sees_only_their_own_threads(school_a):
    exercise = _exercise(school_a, count=2, anonymous=False)
    students = _classmates(school_a, 3)
    replies = {s.pk: _send(school_a, exercise, s) for s in students}
    target = replies[students[0].pk]
    first, second = (client_for(s, school_a.host) for s in students[1:])
    for client, body in ((first, "one"), (second, "two")):
        response = client.post(
            f"/api/v1/replies/{target.public_id}/comments/",
            {"body": body, "at_ms": 10},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    # A reviewer sees their own thread, not the other reviewer's
    assert [
        t["body"] for t in first.get(f"/api/v1/replies/{target.public_id}/comments/").json()
    ] == ["one"]
    # The owner sees both, under the reviewers' names
    owner = client_for(students[0], school_a.host)
    threads = owner.get(f"/api/v1/replies/{target.public_id}/comments/").json()
    assert {t["author"]["display_name"] for t in threads} == {
        students[1].display_name,
        students[2].display_name,
    }
    # And a reviewer may not answer a thread they did not start
    other_thread = next(t for t in threads if t["body"] == "two")
    refused = first.post(
        f"/api/v1/replies/{target.public_id}/comments/",
        {"body": "me too", "at_ms": 10, "parent": other_thread["public_id"]},
        content_type="application/json",
    )
    assert refused.status_code == 403
    # And the reviewer may not move the classmate's sync offset
    assert (
        first.post(
            f"/api/v1/replies/{target.public_id}/sync-offset/",
            {"offset_ms": 100},
            content_type="application/json",
        ).status_code
        == 403
    )


# --- Teachers hide peer comments ----------------------------------------------------------


def test_the_teacher_hides_a_peer_comment_from_students_only(school_a):
    exercise = _exercise(school_a, count=1)
    target = _send(school_a, exercise, school_a.other_student)
    _send(school_a, exercise, school_a.student)
    reviewer = client_for(school_a.student, school_a.host)
    owner = client_for(school_a.other_student, school_a.host)
    teacher = client_for(school_a.teacher, school_a.host)
    comments = f"/api/v1/replies/{target.public_id}/comments/"
    peer = reviewer.post(
        comments, {"body": "Rude remark", "at_ms": 5}, content_type="application/json"
    ).json()
    own = owner.post(
        comments, {"body": "My question", "at_ms": 9}, content_type="application/json"
    ).json()

    # A student cannot hide it; a teacher cannot hide a comment that is no peer review
    hide = f"/api/v1/comments/{peer['public_id']}/hide/"
    assert owner.post(hide, {"hidden": True}, content_type="application/json").status_code == 403
    not_peer = teacher.post(
        f"/api/v1/comments/{own['public_id']}/hide/",
        {"hidden": True},
        content_type="application/json",
    )
    assert not_peer.status_code == 400 and not_peer.json()["code"] == "not_peer_comment"
    assert (
        teacher.post(hide, {"hidden": "maybe"}, content_type="application/json").status_code == 400
    )

    # When the teacher hides it
    response = teacher.post(hide, {"hidden": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["hidden"] is True

    # Then it vanishes for both students and stays, marked, for the teacher
    assert [c["body"] for c in owner.get(comments).json()] == ["My question"]
    assert reviewer.get(comments).json() == []
    # And its author can no longer edit it, nor anyone answer it
    edit = reviewer.patch(
        f"/api/v1/comments/{peer['public_id']}/", {"body": "x"}, content_type="application/json"
    )
    assert edit.status_code == 404
    answer = owner.post(
        comments,
        {"body": "?", "at_ms": 5, "parent": peer["public_id"]},
        content_type="application/json",
    )
    assert answer.status_code == 404
    seen = {c["body"]: c for c in teacher.get(comments).json()}
    assert seen["Rude remark"]["hidden"] is True and seen["Rude remark"]["peer"] is True
    assert seen["My question"]["peer"] is False
    # And the teacher's page carries the hide endpoint; the student's does not
    assert b"/hide/" in teacher.get(f"/replies/{target.public_id}/").content
    assert b"/hide/" not in owner.get(f"/replies/{target.public_id}/").content
    # And the student's dashboard feed leaves it out too
    assert b"Rude remark" not in owner.get("/dashboard/").content

    # When the teacher shows it again, the students see it again
    teacher.post(hide, {"hidden": False}, content_type="application/json")
    assert len(owner.get(comments).json()) == 2


# --- Constant queries ---------------------------------------------------------------------


def test_the_review_list_page_and_api_cost_the_same_queries_for_3_or_55_rows(school_a):
    student = school_a.student
    client = client_for(student, school_a.host)
    with tenant_context(school_a.tenant):
        exercise = ExerciseFactory(created_by=school_a.teacher, peer_review_count=10)

    def make(n: int, start: int) -> None:
        with tenant_context(school_a.tenant):
            for i in range(start, start + n):
                classmate = User.objects.create(email=f"row{i}@school-a.example.com")
                reply = ReplyFactory(exercise=exercise, student=classmate, attempt=1)
                PeerReview.objects.create(
                    exercise=exercise, reviewer=student, reply=reply, reviewee=classmate
                )

    def cost() -> tuple[int, int]:
        client.get("/api/v1/peer-reviews/?limit=100")  # warm the session and caches
        client.get("/peer-reviews/")
        with count_statements() as api:
            response = client.get("/api/v1/peer-reviews/?limit=100")
            assert response.status_code == 200
        with count_statements() as page:
            assert client.get("/peer-reviews/").status_code == 200
        return len(api), len(page), response.json()["count"]

    make(3, 0)
    few = cost()
    make(52, 3)
    many = cost()
    assert few[2] == 3 and many[2] == 55
    assert many[:2] == few[:2], (few, many)
    print(f"peer review list statements (3 and 55 rows): API {many[0]}, page {many[1]}")


# --- Concurrent hand-outs -----------------------------------------------------------------


def test_concurrent_hand_outs_never_give_anyone_more_than_n(django_db_setup, django_db_blocker):
    # Committed rows (no test transaction), so that each thread's own connection sees them.
    from tests.support.committed_school import committed_school

    n, size = 2, 6
    with django_db_blocker.unblock(), committed_school("peer-race") as (tenant, first):
        extra = []
        for i in range(size - 1):
            user = User.objects.create_user(email=f"race{i}-{tenant.slug}@example.com")
            Membership.objects.create(user=user, tenant=tenant, role=Role.STUDENT)
            extra.append(user)
        students = [first, *extra]
        teacher = Membership.objects.get(tenant=tenant, role=Role.OWNER).user
        try:
            with tenant_context(tenant):
                exercise = ExerciseFactory(created_by=teacher, peer_review_count=n)
                for student in students:  # sent before peer review runs: all to hand out
                    ReplyFactory(exercise=exercise, student=student, attempt=1)

            # When several processes hand out at the same moment (replies ready together)
            barrier = threading.Barrier(4)
            errors: list[BaseException] = []

            def hand_out() -> None:
                try:
                    with tenant_context(tenant):
                        barrier.wait()
                        peer_services.peer_reviews_assign(exercise=exercise)
                except BaseException as error:
                    errors.append(error)
                finally:
                    connection.close()

            threads = [threading.Thread(target=hand_out) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            # Then none failed, and every student has exactly n, evenly spread
            assert errors == []
            with tenant_context(tenant):
                reviews = list(PeerReview.objects.filter(exercise=exercise).select_related("reply"))
            _assert_exact(reviews, students, n)
            assert sorted(Counter(r.reviewee_id for r in reviews).values()) == [n] * size
        finally:
            with tenant_context(tenant):
                Exercise.objects.all().delete()  # its replies; committed_school removes media
                MediaFile.objects.filter(owner__in=extra).delete()
                for user in extra:
                    user.delete()
