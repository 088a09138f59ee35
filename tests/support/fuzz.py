"""API fuzzing with schemathesis, in-process against the real WSGI stack (every middleware,
django-tenants' host routing, DRF, dj-rest-auth), inside the test's database transaction.

How a run goes (`Fuzzer.run`):

- The schema is the one the host serves at `/api/schema/`, fetched with the member's token.
- The member logs in through the API (`POST /api/v1/auth/login/`), the way a client does.
- Every operation gets generated cases in both of schemathesis' modes (valid data, and data
  that breaks the schema), with the ids of real objects of both schools mixed into its path
  parameters: the member's own school (so the cases reach real objects) and school B (an
  attacker's guess that must find nothing).
- Each case runs in a savepoint that is rolled back, with an empty cache: a case that logs out,
  changes the password or deletes an exercise changes nothing for the next one, so no token is
  revoked mid-run and no rate limit set by one case answers the next with 429.
- Each response is checked: no server error; status code, content type and body as the schema
  says; not a 401 (the token is always valid: a 401 would be an operation left untested for
  lack of authentication); none of school B's ids, names or emails in the body.

Failures are collected rather than raised inside hypothesis, so one run lists them all.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta

import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from tests.conftest import PASSWORD, School

SCHEMA_PATH = "/api/schema/"
LOGIN_PATH = "/api/v1/auth/login/"

# The checks the issue asks for, by their schemathesis names.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)

RESULTS: list[FuzzRun] = []  # read by tests/security/conftest.py for the terminal summary


@contextmanager
def wsgi_app():
    """Django's WSGI handler, safe to call inside the test's transaction.

    A real request ends by closing "old" database connections; inside a transaction that would
    close the test's own connection. Django's test client switches that off around each
    request; this does the same around the whole run.
    """
    handler = WSGIHandler()

    def app(environ, start_response):
        # werkzeug's test client leaves the peer address out; a server always sets it.
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        return handler(environ, start_response)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield app
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# --- Data ---------------------------------------------------------------------------------


@dataclass
class SchoolData:
    """Ids of a school's objects by kind (for path parameters), and the strings that belong to
    it alone (to look for in other people's responses)."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    markers: set[str] = field(default_factory=set)

    def add(self, kind: str, *values) -> None:
        self.ids.setdefault(kind, []).extend(str(v) for v in values)
        self.markers.update(str(v) for v in values)


def populate(school: School, *, label: str) -> SchoolData:
    """Give a school a class, exercises (published and draft), replies, a comment thread, a
    notification and a pending invitation; return their ids and the school's own strings."""
    from analytics.models import Notification
    from learning.models import Classroom, Course, CourseItem, CourseUnit, Exercise
    from tenants import services as tenant_services
    from tenants.models import Membership
    from tests.support.factories import CommentFactory, ExerciseFactory, ReplyFactory

    data = SchoolData()
    tag = f"{label}-{uuid.uuid4().hex[:8]}"
    with tenant_context(school.tenant):
        classroom = Classroom.objects.create(name=f"Class {tag}", created_by=school.teacher)
        classroom.students.add(school.student, school.other_student)
        published = ExerciseFactory(created_by=school.teacher, title=f"Scales {tag}")
        draft = ExerciseFactory(
            created_by=school.teacher, title=f"Draft {tag}", status=Exercise.Status.DRAFT,
            published_at=None,
        )
        published.assigned_classes.add(classroom)
        reply = ReplyFactory(exercise=published, student=school.student, note=f"Take {tag}")
        other_reply = ReplyFactory(exercise=published, student=school.other_student)
        comment = CommentFactory(reply=reply, author=school.teacher, body=f"Bow {tag}")
        answer = CommentFactory(
            reply=reply, author=school.student, parent=comment, body=f"Thanks {tag}"
        )
        notification = Notification.objects.create(
            recipient=school.teacher, kind=Notification.Kind.REPLY_TO_REVIEW,
            title=f"New reply {tag}", dedupe_key=f"fuzz:{tag}", created_at=timezone.now(),
        )
        data.add("exercise", published.public_id, draft.public_id)
        data.add("reply", reply.public_id, other_reply.public_id)
        data.add("comment", comment.public_id, answer.public_id)
        data.add("media", reply.media.public_id, published.demo.public_id)
        data.add("class", classroom.public_id)
        data.add("notification", notification.public_id)
        # A course assigned to everyone, with the published exercise behind a release date.
        course = Course.objects.create(
            title=f"Course {tag}", created_by=school.teacher, assign_to_all=True
        )
        unit = CourseUnit.objects.create(course=course, title=f"Unit {tag}")
        course_draft = ExerciseFactory(created_by=school.teacher, title=f"Step {tag}")
        CourseItem.objects.create(
            unit=unit, exercise=course_draft, release_at=timezone.now() + timedelta(days=3)
        )
        data.add("course", course.public_id)
        data.markers.update({course.title, unit.title, course_draft.title})
        data.markers.update({
            published.title, draft.title, reply.note, comment.body, answer.body,
            classroom.name, notification.title,
        })
    invitation = tenant_services.invitation_create(
        tenant=school.tenant, email=f"invitee-{tag}@example.com", role="student",
        actor=school.owner,
    )
    data.add("invitation", invitation.public_id)
    data.ids["invitation_token"] = [invitation.token]
    data.markers.update({invitation.email, invitation.token})
    for membership in Membership.objects.filter(tenant=school.tenant).select_related("user"):
        data.add("member", membership.public_id)
        data.markers.update({membership.user.email, str(membership.user.public_id)})
    data.markers.update({school.tenant.name, school.tenant.slug, str(school.tenant.public_id)})
    if school.tenant.join_code:
        data.markers.add(school.tenant.join_code)
    return data


# Which kind of object a path parameter names, by the path's first segment after /api/v1/.
PATH_KINDS = {
    "exercises": "exercise",
    "replies": "reply",
    "comments": "comment",
    "media": "media",
    "members": "member",
    "invitations": "invitation",
    "courses": "course",
}


def path_kind(path: str, parameter: str) -> str | None:
    if parameter == "token" and path.startswith("/api/v1/invitations/"):
        return "invitation_token"
    return PATH_KINDS.get(path.removeprefix("/api/v1/").split("/")[0])


# --- The run ------------------------------------------------------------------------------


@dataclass
class FuzzRun:
    name: str
    cases: int = 0
    operations: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # one example per distinct failure
    cases_by_operation: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(self.statuses.items()))
        return (
            f"schemathesis {self.name}: {self.cases} cases, {self.operations} operations, "
            f"{len(self.failures)} failures, {self.seconds:.0f} s (statuses {statuses})"
        )


@dataclass
class Fuzzer:
    app: Callable
    host: str
    email: str
    own: SchoolData
    other: SchoolData  # school B: none of it may show up
    max_examples: int
    run: FuzzRun
    token: str = ""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def login(self) -> str:
        from werkzeug.test import Client

        response = Client(self.app).post(
            LOGIN_PATH, base_url=self.base_url,
            json={"email": self.email, "password": PASSWORD},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["key"]

    def load_schema(self):
        return schemathesis.openapi.from_wsgi(
            SCHEMA_PATH, self.app, base_url=self.base_url,
            headers={"Authorization": f"Token {self.token}", "Accept": "application/json"},
        )

    def fuzz(self) -> FuzzRun:
        started = time.monotonic()
        self.token = self.login()
        schema = self.load_schema()
        checks = [getattr(schemathesis.checks, name) for name in CHECK_NAMES]
        for result in schema.get_all_operations():
            operation = result.ok()
            self.run.operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self._fuzz_operation(operation, mode, checks)
        self.run.seconds = time.monotonic() - started
        # The cases that logged out or changed the password were rolled back: the token works.
        from werkzeug.test import Client

        still = Client(self.app).get(
            "/api/v1/auth/user/", base_url=self.base_url,
            headers={"Authorization": f"Token {self.token}"},
        )
        assert still.status_code == 200, "the run's own token was revoked"
        return self.run

    def _path_choices(self, operation) -> dict[str, list[str]]:
        choices = {}
        for parameter in operation.path_parameters:
            kind = path_kind(operation.path, parameter.name)
            ids = self.own.ids.get(kind, []) + self.other.ids.get(kind, [])
            if ids:
                choices[parameter.name] = ids
        return choices

    def _fuzz_operation(self, operation, mode, checks) -> None:
        choices = self._path_choices(operation)
        # Generated values stay in the mix (None keeps the generated one): wrong ids matter too.
        overrides = st.fixed_dictionaries(
            {name: st.sampled_from([None, *ids]) for name, ids in choices.items()}
        )

        @settings(
            max_examples=self.max_examples, deadline=None, derandomize=True, database=None,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), path=overrides)
        def run(case, path):
            for name, value in path.items():
                if value is not None:
                    case.path_parameters[name] = value
            self._run_case(case, checks)

        # Unsatisfiable: e.g. no schema-breaking data exists for an operation without input.
        with suppress(Unsatisfiable):
            run()

    def _run_case(self, case, checks) -> None:
        label = case.operation.label
        with transaction.atomic():
            cache.clear()
            response = case.call(
                base_url=self.base_url, headers={"Authorization": f"Token {self.token}"}
            )
            transaction.set_rollback(True)
        connection.set_schema_to_public()
        self.run.cases += 1
        self.run.cases_by_operation[label] += 1
        self.run.statuses[response.status_code] += 1
        problems = []  # (title, detail)
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:
            problems += [(f.title, f.message) for f in group.exceptions]
        if response.status_code == 401:
            problems.append(("401 with a valid token", "the operation went untested"))
        body = response.content.decode("utf-8", "replace")
        sent = json.dumps([case.path_parameters, case.query, case.body], default=str)
        leaked = sorted(m for m in self.other.markers if m in body and m not in sent)
        if leaked:
            problems.append(("School B's data in the body", ", ".join(leaked)))
        for title, detail in problems:
            self.run.failures.setdefault(
                f"{label} -> {response.status_code}: {title}",
                f"{detail[:500]}\n    {case.as_curl_command()}\n    body: {body[:300]}",
            )
