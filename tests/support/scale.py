"""A tenant seeded at scale for the query-count tests and bench/pages.py: 1,000 students
and 10,000 replies with feedback, comments and activity events, written with bulk_create (a
few seconds) and rolled up with analytics.rollups.rebuild()."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from analytics import rollups
from learning.models import ActivityEvent, Classroom, Comment, Exercise, MediaFile, Reply
from tenants.models import Membership, Role, User

EXERCISES = 10


def seed(*, tenant, teacher, students: int = 1000, replies: int = 10000, tag: str = "") -> dict:
    """Add `students` students and `replies` replies (with reviews, comments, practice
    events) to `tenant`. Returns a few of the created objects' ids."""
    tag = tag or uuid.uuid4().hex[:6]
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(email=f"scale-{tag}-{n}@example.com", full_name=f"Student {n:04d}", password="!")
            for n in range(students)
        ],
        batch_size=1000,
    )
    Membership.objects.bulk_create(
        [Membership(user=u, tenant=tenant, role=Role.STUDENT) for u in users], batch_size=1000
    )
    with tenant_context(tenant):
        demos = MediaFile.objects.bulk_create(
            [
                MediaFile(
                    owner=teacher, purpose="demonstration", state="ready",
                    source_key=f"tenants/{tenant.public_id}/media/{uuid.uuid4()}/source",
                    size_bytes=5_000_000,
                )
                for _ in range(EXERCISES)
            ]
        )
        exercises = Exercise.objects.bulk_create(
            [
                Exercise(
                    title=f"Study {n}", created_by=teacher, demo=demos[n], status="published",
                    published_at=now - timedelta(days=60 - n), assign_to_all=n < EXERCISES - 2,
                    due_at=now + timedelta(days=n - 3),
                )
                for n in range(EXERCISES)
            ]
        )
        # Two exercises are assigned to some students directly and to a class.
        Exercise.assigned_students.through.objects.bulk_create(
            [
                Exercise.assigned_students.through(exercise_id=exercises[-1].pk, user_id=u.pk)
                for u in users[:300]
            ]
        )
        classroom = Classroom.objects.create(name=f"Orchestra {tag}", created_by=teacher)
        classroom.students.set(users[200:400])
        exercises[-2].assigned_classes.add(classroom)
        media = MediaFile.objects.bulk_create(
            [
                MediaFile(
                    owner=users[n % students], purpose="reply", state="ready",
                    source_key=f"tenants/{tenant.public_id}/media/{uuid.uuid4()}/source",
                    size_bytes=1_000_000,
                )
                for n in range(replies)
            ],
            batch_size=2000,
        )
        statuses = ["submitted", "reviewed", "try_again"]
        reply_rows = []
        for n in range(replies):
            status = statuses[n % 3]
            created = now - timedelta(days=(n % 80), hours=n % 7)
            reply_rows.append(
                Reply(
                    exercise=exercises[(n // students) % EXERCISES], student=users[n % students],
                    attempt=1 + n // (students * EXERCISES), media=media[n], status=status,
                    reviewed_at=created + timedelta(hours=1 + n % 5) if status != "submitted"
                    else None,
                    reviewed_by=teacher if status != "submitted" else None,
                )
            )
        reply_rows = Reply.objects.bulk_create(reply_rows, batch_size=2000)
        # created_at is auto_now_add: spread it over 80 days afterwards, in one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE learning_reply SET created_at = now() - (id %% 80) * interval '1 day', "
                "reviewed_at = CASE WHEN reviewed_at IS NULL THEN NULL ELSE "
                "now() - (id %% 80) * interval '1 day' + (1 + id %% 5) * interval '1 hour' END "
                "WHERE id >= %s",
                [reply_rows[0].pk],
            )
        Comment.objects.bulk_create(
            [
                Comment(reply=reply_rows[n], author=teacher, at_ms=1000 + n, body="Steadier.")
                for n in range(0, replies, 5)
            ],
            batch_size=2000,
        )
        events = []
        for n, reply in enumerate(reply_rows):
            when = now - timedelta(days=n % 80)
            events.append(
                ActivityEvent(
                    kind="reply_submitted", actor_id=reply.student_id, occurred_at=when,
                    data={"reply": str(reply.public_id), "student_id": reply.student_id,
                          "role": "student"},
                )
            )
            events.append(
                ActivityEvent(
                    kind="practice", actor_id=reply.student_id, occurred_at=when,
                    data={"seconds": 60 + n % 240, "mode": "playing", "role": "student"},
                )
            )
            if reply.status != "submitted":
                events.append(
                    ActivityEvent(
                        kind="feedback_given", actor_id=teacher.pk, occurred_at=when,
                        data={"reply": str(reply.public_id), "student_id": reply.student_id,
                              "role": "teacher"},
                    )
                )
        ActivityEvent.objects.bulk_create(events, batch_size=5000)
        rollups.rebuild()
    return {"students": [u.pk for u in users], "exercises": [e.pk for e in exercises]}
