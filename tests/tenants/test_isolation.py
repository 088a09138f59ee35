"""Tenant isolation, route by route: a member of school A gets 403 or 404 for every page and
every API route of school B — its owner, a teacher and a student, each logged in with a
session and with an API token, and anonymous — and finds none of school B's data anywhere.

The routes are not listed here: the test walks every URL pattern registered for a tenant's
host (`config.urls_tenants`), fills in its parameters (with placeholder values and with real
ids of school B's objects), and sends GET, POST, PATCH and DELETE. A new route is covered the
day it is added; a route that must be open to non-members has to be added to
OPEN_BY_DESIGN below, where it is checked for leaks instead.

School B is filled for this module (tests/support/school_content.py): a class, an exercise
with a stored demonstration, a reply with a stored recording, comments, an alignment,
notifications, an invitation, an upload in progress, playback and unsubscribe links. Their
titles and bodies contain "SCHOOL-B-SECRET"; their ids go into the URLs; and no response to
school A's members may contain any of them: on school B's host, on school A's own host
(school B's ids guessed there), through signed media URLs and over websockets. It is created
once, inside a transaction rolled back after the module, so --reuse-db keeps nothing of it.

Decision on the API schema and docs (`/api/schema/`, `/api/docs/`): on a tenant's host they
are members-only like every other route there (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]);
the public site serves them to anyone. So they are walked, not allow-listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from django_tenants.utils import schema_context, tenant_context

from analytics import notifications
from analytics.models import Notification, NotificationPreference
from learning.models import Classroom, Comment, Exercise, MediaFile, Reply, Rubric, RubricScore
from learning.replies import services as replies
from tenants import middleware
from tenants.models import ApiToken, GuardianConsent, Invitation, ManagedAccount, Membership
from tenants.websockets import CLOSE_FORBIDDEN, tenant_group, websocket_urlpatterns
from tests.conftest import School, Schools, client_for, member, token_client_for
from tests.support.school_content import SchoolContent, populate, secret, uuid_forms
from tests.tenants.test_websockets import communicator, login_cookie, run

URLCONF = "config.urls_tenants"
METHODS = ("get", "post", "patch", "delete")

# Routes that people who are not members of a tenant may open on its host, and why. Each is
# requested with GET only (a POST could log out, change a password or accept an invitation)
# and must not show anything of school B beyond what its login page shows anyway.
OPEN_BY_DESIGN = {
    # Getting in: log in or out, sign up, reset a password, confirm an email address.
    "account_login",
    "account_logout",
    "account_signup",
    "account_inactive",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_email",
    "account_email_verification_sent",
    # The code step of a login (allauth.mfa): only the login under way in this session.
    "mfa_authenticate",
    # Becoming a member: the token or the code is the credential.
    "tenants:handover",
    "tenants:invitation_accept",
    "tenants:join",
    "tenants:no_access",
    "api:join",
    "api:invitation_accept",
    # The account itself (dj-rest-auth): one global user, the same answer on every host.
    "rest_login",
    "rest_logout",
    "rest_user_details",
    "rest_password_change",
    "rest_password_reset",
    "rest_password_reset_confirm",
    "api_tokens",
    "api_token",
    # Local stand-ins for S3's presigned URLs: the signed, tenant-bound token in the path is
    # the credential (learning.uploads.views, learning.storage.views; their tests check the
    # tenant binding).
    "upload-part",
    "media-signed",
    # One-click unsubscribe from an email (RFC 8058), without logging in: the signed token
    # names the member, the kind and the tenant (analytics.notifications.unsubscribe_check).
    # Under /api/, so the middleware leaves it to the view; only a real token of school B
    # (which the walk now has) shows that it answers outsiders.
    "analytics:unsubscribe",
    # LTI 1.3 (learning.lti): the LMS's login initiation and signed launch, whose credential
    # is the platform-signed id_token bound to our state and nonce, and the tool's public keys
    # (public by nature). tests/learning/test_lti.py checks that another school's LMS is
    # unknown here.
    "learning:lti:login",
    "learning:lti:launch",
    "learning:lti:jwks",
    # Platform staff (members of no tenant) on their way into a support session: the page and
    # hijack's acquire act only on the staff member's own pending request for this tenant,
    # release only on a session that is one (tenants.impersonation; tests/tenants/
    # test_impersonation.py).
    "tenants:support_start",
    "hijack:acquire",
    "hijack:release",
    # Load balancer probes.
    "healthz",
    "readyz",
    # Students without email sign in with a class code, their name and their personal code
    # (learning.class_signin: rate-limited, the account locks); the code is the credential
    # for the class list.
    "learning:class_signin",
    "learning:class_signin_pick",
    # A guardian's consent, its withdrawal and the child's feedback: the signed link, bound
    # to its tenant, is the credential (tenants.services.guardian_consent).
    "tenants:guardian_consent",
    "tenants:guardian_consent_withdraw",
    "learning:guardian_feedback",
}

PLACEHOLDER_UUID = "00000000-0000-4000-8000-000000000001"


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # the full pattern as written, for messages
    parts: tuple  # the RoutePattern / RegexPattern of each level
    callback: object

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


def walk(resolver: URLResolver, parts: tuple = (), namespaces: tuple = ()) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = (entry.namespace,) if entry.namespace else ()
            yield from walk(entry, (*parts, entry.pattern), namespaces + namespace)
        elif isinstance(entry, URLPattern):
            chain = (*parts, entry.pattern)
            name = ":".join((*namespaces, entry.name)) if entry.name else f"<unnamed {entry}>"
            yield Route(
                name=name,
                pattern="".join(str(p) for p in chain),
                parts=chain,
                callback=entry.callback,
            )


def all_routes() -> list[Route]:
    return list(walk(get_resolver(URLCONF)))


# --- Turning patterns into concrete paths ---------------------------------------------------

ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
NAMED_GROUP = "(?P<"


def _placeholder(converter) -> str:
    if isinstance(converter, IntConverter):
        return "1"
    if isinstance(converter, UUIDConverter):
        return PLACEHOLDER_UUID
    return "x"  # str, slug, path


def _fill_route(pattern: RoutePattern, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match["name"]
        return values.get(name) or _placeholder(pattern.converters[name])

    return ROUTE_PARAM.sub(value, str(pattern._route))


def _fill_regex(pattern: RegexPattern, values: dict[str, str]) -> str:
    regex = pattern._regex.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out, i = [], 0
    while i < len(regex):
        if regex.startswith(NAMED_GROUP, i):
            name_end = regex.index(">", i)
            name = regex[i + len(NAMED_GROUP) : name_end]
            depth, j = 1, name_end + 1
            while depth:  # skip to the group's closing parenthesis
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            out.append(values.get(name) or "x")
            i = j
        elif regex.startswith("/?", i):  # dj-rest-auth's optional trailing slash
            out.append("/")
            i += 2
        elif regex[i] == "\\" and i + 1 < len(regex) and regex[i + 1] in "./-":
            out.append(regex[i + 1])
            i += 2
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def concrete_paths(route: Route, real: dict[str, list[str]]) -> list[str]:
    """The route with placeholder values, and again with each real value of school B."""
    names = []
    for part in route.parts:
        if isinstance(part, RoutePattern):
            names += [m["name"] for m in ROUTE_PARAM.finditer(str(part._route))]
        else:
            names += re.findall(r"\(\?P<([^>]+)>", part._regex)
    choices = [[None, *real.get(name, [])] for name in names]
    paths = []
    for combination in product(*choices):
        values = {n: v for n, v in zip(names, combination, strict=True) if v is not None}
        path = "/" + "".join(
            _fill_route(p, values) if isinstance(p, RoutePattern) else _fill_regex(p, values)
            for p in route.parts
        )
        if path not in paths:
            paths.append(path)
    return paths


def resolves_to(path: str, route: Route) -> bool:
    try:
        return resolve(path, urlconf=URLCONF).func is route.callback
    except Exception:
        return False


# --- School B, filled ------------------------------------------------------------------------

# Every kind of object school B holds for the walk, and the routes whose URLs take its ids.
# The walk must have collected ids of each kind and put them into each of these routes.
ROUTES_TAKING: dict[str, tuple[str, ...]] = {
    "membership": (
        "tenants:member_role",
        "tenants:member_remove",
        "api:member",
        "tenants:member_delete",
        "api:member_deletion",
    ),
    "invitation": ("tenants:invitation_revoke", "api:invitation"),
    "invitation_token": ("tenants:invitation_accept", "api:invitation_accept"),
    "join_code": ("tenants:join",),
    "classroom": (
        "learning:classroom_edit",
        "learning:classroom_signin",
        "learning:classroom_code_rotate",
        "learning:classroom_student_create",
        "learning:classroom_cards",
        "learning:gradebook",
        "learning:gradebook_csv",
        "api-class-gradebook",
    ),
    "managed_account": (
        "learning:managed_pin_reset",
        "learning:managed_rename",
        "learning:managed_remove",
    ),
    "guardian_consent": ("tenants:guardian_consent_resend",),
    "guardian_token": (
        "tenants:guardian_consent",
        "tenants:guardian_consent_withdraw",
        "learning:guardian_feedback",
    ),
    "exercise": (
        "learning:teacher_exercise",
        "learning:exercise_edit",
        "learning:exercise_publish",
        "learning:exercise_delete",
        "learning:student_exercise",
        "api-exercise",
        "api-exercise-publish",
        "api-exercise-template",
        "api-exercise-use",
        "learning:exercise_rubric_attach",
        "api-exercise-rubric",
    ),
    "course": (
        "learning:teacher_course",
        "learning:course_path",
        "api-course",
        "api-course-units",
        "api-course-items",
        "api-course-item",
        "api-course-assignment",
        "api-course-duplicate",
        "api-course-template",
        "api-course-use",
    ),
    "course_item": ("api-course-item",),
    "course_copy": ("api-copy",),
    "reply": (
        "learning:compare",
        "learning:reply_review",
        "learning:reply_delete",
        "learning:reply_assign",
        "api-reply",
        "api-reply-assign",
        "api-reply-review",
        "api-reply-sync-offset",
        "api-reply-comments",
        "api-reply-alignment",
        "api-reply-seen",
        "learning:reply_score",
        "api-reply-scores",
    ),
    "comment": ("api-comment", "api-comment-hide"),
    "media": ("api-media",),
    "notification": ("analytics:notification_read",),
    "upload_token": ("api-upload", "api-upload-complete", "upload-part"),
    "playback_token": ("media-signed",),
    "unsubscribe_token": ("analytics:unsubscribe",),
    "api_token": ("api_token",),
    "export": ("learning:export_download", "api-export", "api-export-download"),
    "lti_registration": (
        "learning:lti:registration_edit",
        "learning:lti:registration_delete",
    ),
    "lti_course": ("learning:lti:course_sync",),
    "roster_import": ("learning:roster_preview", "learning:roster_confirm"),
    "impersonation": ("tenants:support_start",),
    "saved_comment": (
        "learning:feedback_library_edit",
        "learning:feedback_library_delete",
        "api-saved-comment",
    ),
    "rubric": (
        "learning:rubric_edit",
        "learning:rubric_copy",
        "learning:rubric_delete",
        "api-rubric",
        "api-rubric-copy",
    ),
}
# Kinds with no route of their own (an alignment is reached through its reply, the activity
# outbox and the tenant's id are never in a URL): they must never be shown either, and are
# tried where someone guessing might put them.
UNROUTED: dict[str, tuple[str, ...]] = {
    "alignment": ("api-reply-alignment", "learning:compare"),
    "activity": ("api-reply", "learning:compare"),
    "tenant": ("api:member", "tenants:member_role"),
    "user": ("api:member", "tenants:member_role"),  # a user's id, guessed as a member's
}
# The URL parameter each kind's ids fill.
PARAMETER = {
    "invitation_token": "token",
    "upload_token": "token",
    "playback_token": "token",
    "unsubscribe_token": "token",
    "join_code": "code",
    "guardian_token": "token",
    "course_item": "item_id",
}


def bodies(content: SchoolContent) -> dict[str, dict]:
    """A valid body for each route that reads one, so that a write gets past validation to the
    lookup of school B's object; where a body names other objects, it names school B's."""
    # (A kind school B lacks gets a placeholder: test_school_b_holds_every_kind_... fails.)
    first = dict.fromkeys((*ROUTES_TAKING, *UNROUTED), PLACEHOLDER_UUID)
    first |= {kind: ids[0] for kind, ids in content.ids.items() if ids}
    return {
        "api:member": {"role": "teacher"},
        "api:member_deletion": {"confirmation": "student@school-b.example.com"},
        "api-exercise": {"title": "Renamed"},
        "api-exercise-template": {"is_template": True},
        "api-course-units": {"title": "Mine"},
        "api-course-items": {"unit": PLACEHOLDER_UUID, "exercise": first["exercise"]},
        "api-course-item": {"release_at": None},
        "api-course-assignment": {"assign_to_all": True},
        "api-course-template": {"is_template": True},
        "api-exercises": {
            "title": "Mine",
            "demo": first["media"],
            "assign_to_all": False,
            "classes": [first["classroom"]],
        },
        "api-classes": {"name": "Mine", "students": content.ids.get("user", [])},
        "api-replies": {"exercise": first["exercise"], "media": first["media"]},
        "api-reply-review": {"status": "reviewed"},
        "api-reply-sync-offset": {"offset_ms": 250},
        "api-reply-comments": {"body": "Mine", "at_ms": 10, "parent": first["comment"]},
        "api-comment": {"body": "Edited"},
        "api-comment-hide": {"hidden": True},
        "api-upload-complete": {"parts": [{"number": 1, "etag": '"0"'}]},
        "analytics:api-practice": {
            "reply": first["reply"],
            "exercise": first["exercise"],
            "seconds": 30,
            "kind": "playing",
        },
        "analytics:api-compare-views": {"reply": first["reply"]},
        "analytics:api-notifications-read": {"id": first["notification"]},
        "api-rubrics": {**RUBRIC_BODY, "exercise": first["exercise"]},
        "api-rubric": RUBRIC_BODY,
        "api-rubric-copy": {"exercise": first["exercise"]},
        "api-reply-scores": {"scores": content.scores},
    }


RUBRIC_BODY = {
    "title": "Mine",
    "criteria": [{"title": "Tone", "levels": [{"title": "Full", "points": "2"}]}],
}


# Routes without an id in the path whose bodies above carry school B's ids.
BODY_TAKES_IDS = (
    "api-exercises",
    "api-classes",
    "api-replies",
    "analytics:api-practice",
    "analytics:api-compare-views",
    "analytics:api-notifications-read",
)

# What those routes may answer, other than an error, when the ids are school B's: the change
# is made without them (the test checks that below).
BODY_IDS_LEFT_OUT = {
    "api-classes": 201,  # the class is made with none of school B's people in it
    "analytics:api-notifications-read": 200,  # marks nothing read, shows the member's own bell
}


def send(client, method: str, path: str, body: dict | None = None):
    if method in ("post", "patch", "put") and body is not None:
        return getattr(client, method)(path, body, content_type="application/json")
    return getattr(client, method)(path, content_type="application/json")


def parameter_of(kind: str) -> str:
    return PARAMETER.get(kind, "public_id")


@dataclass(frozen=True)
class SchoolB:
    content: SchoolContent
    # Real values of school B for each URL parameter, with their kind and the routes they are
    # meant for: {parameter: [(value, kind, route names or None for every route taking it)]}.
    values: dict[str, list[tuple[str, str, frozenset | None]]]
    secrets: list[str]
    # Shown to whoever holds the credential in the path: the invitation page greets its invitee.
    credentials: dict[str, list[str]]
    bodies: dict[str, dict]

    @property
    def real_values(self) -> dict[str, list[str]]:
        """Every real value of each parameter, whichever route it is meant for."""
        return {
            name: list(dict.fromkeys(v for v, _, _ in pairs)) for name, pairs in self.values.items()
        }

    def values_for(self, route: Route, *, one_per_kind: bool = False) -> dict[str, list[str]]:
        """The values of school B meant for `route` (all of them, or the first of each kind)."""
        chosen: dict[str, list[str]] = {}
        for name, pairs in self.values.items():
            kinds_seen: set[str] = set()
            for value, kind, routes in pairs:
                if routes is not None and route.name not in routes:
                    continue
                if one_per_kind and kind in kinds_seen:
                    continue
                kinds_seen.add(kind)
                chosen.setdefault(name, []).append(value)
        return {name: list(dict.fromkeys(values)) for name, values in chosen.items()}

    def secrets_for(self, path: str) -> list[str]:
        shown = {
            s for credential, own in self.credentials.items() if credential in path for s in own
        }
        return [s for s in self.secrets if s not in shown]

    def secrets_not_in(self, path: str) -> list[str]:
        """All secrets but the ones in the path itself (a page may repeat its own URL)."""
        return [s for s in self.secrets if s not in path]


def _tenant_model_ids(tenant) -> list[str]:
    """Public ids of every object in the tenant's own schema, whatever its model."""
    uuids = []
    with schema_context(tenant.schema_name):
        for app_label in settings.TENANT_APPS:
            if app_label.startswith("django."):
                continue
            for model in apps.get_app_config(app_label.rsplit(".", 1)[-1]).get_models():
                if any(f.name == "public_id" for f in model._meta.fields):
                    uuids += [str(u) for u in model.objects.values_list("public_id", flat=True)]
    return uuids


@pytest.fixture(scope="module")
def school_b_content(schools, django_db_blocker, tmp_path_factory) -> Iterator[SchoolContent]:
    """School B filled once for this module, in a transaction rolled back afterwards (each
    test's own transaction nests inside it as a savepoint)."""
    media_root = tmp_path_factory.mktemp("isolation-media")
    with (
        django_db_blocker.unblock(),
        override_settings(PRIVATE_MEDIA_ROOT=str(media_root), AWS_STORAGE_BUCKET_NAME=""),
        transaction.atomic(),
    ):
        try:
            yield populate(schools.b)
        finally:
            transaction.set_rollback(True)
            connection.set_schema_to_public()


@pytest.fixture(scope="module")
def school_b_data(schools, school_b_content) -> SchoolB:
    b, content = schools.b, school_b_content
    values: dict[str, list[tuple[str, str, frozenset | None]]] = {}
    for kind, ids in content.ids.items():
        routes = ROUTES_TAKING.get(kind) or UNROUTED.get(kind)
        for value in ids:
            values.setdefault(parameter_of(kind), []).append(
                (value, kind, frozenset(routes) if routes else None)
            )
    # Any object with a public id in school B's own schema that populate() did not name
    # (a model added later) is tried on every route, as the walk always did.
    known = {v for ids in content.ids.values() for v in ids}
    values.setdefault("public_id", [])
    values["public_id"] += [
        (u, "unknown", None) for u in _tenant_model_ids(b.tenant) if u not in known
    ]
    invitation = content.objects["invitation"]
    values["key"] = [(invitation.token, "invitation_token", None)]
    values["slug"] = [(b.tenant.slug, "slug", None)]

    ids = [v for kind_ids in content.ids.values() for v in kind_ids]
    return SchoolB(
        content=content,
        values=values,
        bodies=bodies(content),
        secrets=list(
            dict.fromkeys(
                [
                    b.owner.email,
                    b.teacher.email,
                    b.student.email,
                    b.other_student.email,
                    invitation.email,
                    invitation.token,
                    b.tenant.join_code,
                    *[str(m.public_id) for m in Membership.objects.filter(tenant=b.tenant)],
                    *content.texts,
                    *[form for value in ids for form in uuid_forms(value)],
                ]
            )
        ),
        credentials={
            invitation.token: [invitation.token, invitation.email],
            b.tenant.join_code: [b.tenant.join_code],
            # A playback URL plays its file to whoever holds it, like a presigned S3 URL.
            **{
                token: [token, secret("demo-poster-bytes"), secret("reply-recording-poster-bytes")]
                for token in content.ids.get("playback_token", [])
            },
            **{token: [token] for token in content.ids.get("unsubscribe_token", [])},
        },
    )


ROLES = ("owner", "teacher", "student")
ACTORS = [(role, auth) for auth in ("session", "token") for role in ROLES] + [
    ("anonymous", "anonymous")
]


def client_as(school: School, role: str, auth: str, host: str) -> Client:
    """A client on `host` as `school`'s owner, teacher or student, by session or API token."""
    if auth == "anonymous":
        return Client(HTTP_HOST=host)
    user = getattr(school, role)
    if auth == "session":
        return client_for(user, host)
    return token_client_for(user, host)


def clients(kind: str, schools: Schools) -> Client:
    return client_as(schools.a, "owner", kind, schools.b.host)


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def assert_no_secrets(response, secrets: list[str], what: str) -> None:
    body = body_of(response)
    leaked = [secret for secret in secrets if secret in body]
    assert not leaked, f"{what} shows school B's {leaked}"


def refused(kind: str, route: Route, response) -> bool:
    """403/404 for an authenticated outsider; an anonymous visitor may instead be sent to log in
    (pages) or told to authenticate (API). A token only authenticates API requests."""
    if response.status_code in (403, 404):
        return True
    anonymous = kind == "anonymous" or (kind == "token" and not route.is_api)
    if anonymous and response.status_code == 302:
        return response["Location"].startswith(reverse("account_login", urlconf=URLCONF))
    return anonymous and route.is_api and response.status_code == 401


def not_found_at_home(auth: str, route: Route, response) -> bool:
    """What a member of school A gets on school A's host for an id of school B: 404 (no such
    object here), 403 (not for their role) or 405 (not a method of the route). A token does not
    log a browser page in, so there it is sent to log in instead."""
    if auth == "token" and not route.is_api:
        return refused("token", route, response)
    return response.status_code in (403, 404, 405)


def paths_with_real_values(route: Route, values: dict[str, list[str]]) -> list[str]:
    """The concrete paths of `route` that carry at least one real value of school B."""
    placeholders = set(concrete_paths(route, {}))
    return [p for p in concrete_paths(route, values) if p not in placeholders]


def assert_school_b_unchanged(schools: Schools, content: SchoolContent) -> None:
    """Nothing school A's members sent changed school B: members, invitation, the core loop,
    notifications, preferences and the upload in progress are as populate() left them."""
    b = schools.b
    assert Membership.objects.filter(tenant=b.tenant).count() == 5  # four, and one without email
    managed = content.objects["managed_account"]
    assert ManagedAccount.objects.get(pk=managed.pk).pin_hash == managed.pin_hash
    assert not GuardianConsent.objects.get(pk=content.objects["guardian_consent"].pk).given_at
    assert not Membership.objects.filter(
        user__in=[schools.a.owner, schools.a.teacher, schools.a.student], tenant=b.tenant
    ).exists()
    invitation = Invitation.objects.get(pk=content.objects["invitation"].pk)
    assert invitation.accepted_at is None and invitation.revoked_at is None
    b.tenant.refresh_from_db()
    assert b.tenant.join_code == content.ids["join_code"][0]
    assert ApiToken.objects.filter(pk=content.objects["api_token"].pk).exists()
    with tenant_context(b.tenant):
        exercise = Exercise.objects.get(pk=content.objects["exercise"].pk)
        assert exercise.title == secret("exercise-title")
        assert exercise.status == Exercise.Status.PUBLISHED
        reply = Reply.objects.get(pk=content.objects["reply"].pk)
        scored = content.objects["scored_reply"]  # reviewed by its rubric score (populate)
        assert (reply.status, reply.sync_offset_ms) == (Reply.Status.REVIEWED, 0)
        assert (reply.reviewed_at, reply.score_given) == (scored.reviewed_at, 3.0)
        assert list(RubricScore.objects.values_list("note", flat=True)) == [secret("rubric-note")]
        assert set(Rubric.objects.values_list("title", flat=True)) == {secret("rubric-title")}
        assert Rubric.objects.count() == 2
        assert Comment.objects.get(pk=content.objects["comment"].pk).body == secret("comment-body")
        assert Comment.objects.count() == 2
        assert MediaFile.objects.get(pk=content.objects["upload"].pk).state == (
            MediaFile.State.AWAITING_UPLOAD
        )
        assert not Notification.objects.filter(read_at__isnull=False).exists()
        assert not NotificationPreference.objects.exists()


# --- The tests ------------------------------------------------------------------------------


def test_the_walk_finds_every_kind_of_route():
    routes = all_routes()
    names = {r.name for r in routes}

    # If the walk broke (an include not followed), these would go missing.
    assert len(routes) >= 40
    assert {
        "tenants:home",
        "account_email",
        "account_confirm_email",
        "rest_user_details",
        "api:members",
        "api:member",
        "schema",
        "api-docs",
    } <= names
    # Every route named as taking an id of school B exists, and every route that takes a
    # public id is named there (a new one must say what it takes).
    taking = {name for routes_of_kind in ROUTES_TAKING.values() for name in routes_of_kind}
    assert taking <= names
    assert {r.name for r in routes if "public_id" in r.pattern} <= taking


def test_school_b_holds_every_kind_of_object_and_the_walk_uses_their_ids(
    schools, school_b_data, db
):
    content = school_b_data.content
    missing = [kind for kind in (*ROUTES_TAKING, *UNROUTED) if not content.ids.get(kind)]
    assert not missing, f"school B has no {missing}"
    # They are really in school B's schema (not made up by populate()).
    in_schema = set(_tenant_model_ids(schools.b.tenant))
    for kind in ("exercise", "reply", "comment", "media", "alignment", "classroom", "notification"):
        assert set(content.ids[kind]) <= in_schema, kind

    routes = {r.name: r for r in all_routes()}
    unused = []
    for kind, route_names in ROUTES_TAKING.items():
        for name in route_names:
            paths = concrete_paths(routes[name], school_b_data.values_for(routes[name]))
            unused += [
                (kind, name, v) for v in content.ids[kind] if not any(v in path for path in paths)
            ]
    for kind, route_names in UNROUTED.items():
        for name in route_names:
            paths = concrete_paths(routes[name], school_b_data.values_for(routes[name]))
            unused += [
                (kind, name, v) for v in content.ids[kind] if not any(v in path for path in paths)
            ]
    assert not unused, "ids of school B that the walk does not put into their routes"
    # The texts the responses are searched for are there, in school B's schema.
    assert len([s for s in school_b_data.secrets if "SCHOOL-B-SECRET" in s]) >= 15


def test_every_route_becomes_a_concrete_path_that_resolves_back_to_it(school_b_data):
    unbuildable = [
        (route.name, route.pattern)
        for route in all_routes()
        for path in concrete_paths(route, school_b_data.real_values)
        if not resolves_to(path, route)
    ]

    assert not unbuildable, "teach concrete_paths() these patterns"


def test_pages_open_to_non_members_are_all_reviewed_here():
    # A page opened in the middleware without being reviewed here fails this test.
    assert middleware.OPEN_URL_NAMES <= OPEN_BY_DESIGN
    assert {r.name for r in all_routes()} >= OPEN_BY_DESIGN, "a stale entry in OPEN_BY_DESIGN"


# The owner (by session and by token) and an anonymous visitor get the full walk: every id of
# school B in every route meant for it, with every method. School A's teachers and students
# go through the same refusal (the middleware and the API's permission class act before any
# view, whatever the method), so they get one id of each kind, with GET and POST, to keep the
# module fast on a busy machine.
FULL_WALK = {("owner", "session"), ("owner", "token"), ("anonymous", "anonymous")}


@pytest.mark.parametrize(("role", "kind"), ACTORS)
def test_a_member_of_school_a_is_refused_every_route_of_school_b(
    role, kind, schools, school_b_data, db
):
    client = client_as(schools.a, role, kind, schools.b.host)
    full = (role, kind) in FULL_WALK
    checked, with_real_ids, failures = 0, set(), []
    for route in all_routes():
        if route.name in OPEN_BY_DESIGN:
            continue
        placeholders = set(concrete_paths(route, {}))
        values = school_b_data.values_for(route, one_per_kind=not full)
        for path in concrete_paths(route, values):
            if path not in placeholders:
                with_real_ids.add(route.name)
            for method in METHODS if full else ("get", "post"):
                response = send(client, method, path, school_b_data.bodies.get(route.name))
                checked += 1
                if not refused(kind, route, response):
                    failures.append(
                        f"{method.upper()} {path} ({route.name}) → {response.status_code}"
                    )
                assert_no_secrets(response, school_b_data.secrets, f"{method} {path}")

    assert not failures, "\n".join(failures)
    assert checked >= 100
    # School B's ids were really tried, not only placeholders: in every route that takes one.
    taking = {name for names in ROUTES_TAKING.values() for name in names}
    assert with_real_ids == taking - OPEN_BY_DESIGN
    # Nothing was changed on the way: school B still has its members.
    assert Membership.objects.filter(tenant=schools.b.tenant).count() == 5
    assert not Membership.objects.filter(user=schools.a.owner, tenant=schools.b.tenant).exists()
    assert_school_b_unchanged(schools, school_b_data.content)


@pytest.mark.parametrize(("role", "kind"), ACTORS)
def test_routes_open_by_design_show_nothing_of_school_b(role, kind, schools, school_b_data, db):
    client = client_as(schools.a, role, kind, schools.b.host)
    checked = 0
    for route in all_routes():
        if route.name not in OPEN_BY_DESIGN:
            continue
        for path in concrete_paths(route, school_b_data.values_for(route)):
            response = client.get(path)
            checked += 1
            assert response.status_code < 500, f"GET {path} → {response.status_code}"
            assert_no_secrets(response, school_b_data.secrets_for(path), f"GET {path}")

    assert checked >= len(OPEN_BY_DESIGN)
    assert not Membership.objects.filter(user=schools.a.owner, tenant=schools.b.tenant).exists()
    assert_school_b_unchanged(schools, school_b_data.content)


# School A's members on their own host, and school B's members there, guessing school B's ids.
HOME_ACTORS = [(role, auth) for auth in ("session", "token") for role in ROLES]
# Open routes whose credential is school B's: on school A's host it is no credential at all.
# (The others, log in, join and the like, answer a page that must show nothing of school B.)
HOME_REFUSES_CREDENTIAL = {
    "media-signed": (404, 405),  # another school's playback URL plays nothing here
    "upload-part": (403, 404, 405),  # nor does its upload URL store anything
    "analytics:unsubscribe": (404,),
    "tenants:invitation_accept": (405, 410),  # "this link is not valid" (tenants.views.joining)
    "tenants:guardian_consent": (405, 410),  # "this link is not valid" (tenants.views.guardians)
    "tenants:guardian_consent_withdraw": (405, 410),
    "learning:guardian_feedback": (405, 410),
    "api:invitation_accept": (400, 403, 404, 405, 410),
}


def walk_home_with_school_bs_ids(client, *, auth, school_b_data, secrets_for) -> int:
    """Send every route that takes an id or token of school B, with one of each kind, to
    school A's host; return how many requests went. A page that redirects (a form posted
    back to its list, with a message) is followed, and the page it lands on is searched too."""
    checked, failures = 0, []
    for route in all_routes():
        # Open routes get GET, POST and PUT: a POST with school B's invitation or code must
        # not join B, a PUT with B's upload token must not store a part.
        methods = ("get", "post", "put") if route.name in OPEN_BY_DESIGN else METHODS
        # Every credential of school B, and one id of each kind (B's ids are all equally
        # absent from A's schema; which route gets which kind is what matters).
        values = school_b_data.values_for(
            route, one_per_kind=route.name not in HOME_REFUSES_CREDENTIAL
        )
        paths = paths_with_real_values(route, values)
        if route.name in BODY_TAKES_IDS:  # school B's ids in the body instead
            paths, methods = concrete_paths(route, {}), ("post",)
        for path in paths:
            for method in methods:
                response = send(client, method, path, school_b_data.bodies.get(route.name))
                checked += 1
                what = f"{method.upper()} {path} ({route.name}) on A"
                assert_no_secrets(response, secrets_for(path), what)
                if route.name in HOME_REFUSES_CREDENTIAL:
                    ok = response.status_code in HOME_REFUSES_CREDENTIAL[route.name]
                elif route.name in OPEN_BY_DESIGN:
                    ok = response.status_code < 500
                elif response.status_code == 302 and not route.is_api and auth == "session":
                    location = response["Location"]
                    ok = location.startswith("/") and not location.startswith("//")
                    landed = client.get(location)
                    ok = ok and landed.status_code == 200
                    assert_no_secrets(landed, secrets_for(path), f"{what}, then {location}")
                else:
                    ok = (
                        not_found_at_home(auth, route, response)
                        or (
                            # An id of school B in the body is an invalid choice here.
                            route.name in BODY_TAKES_IDS and response.status_code == 400
                        )
                        or response.status_code == BODY_IDS_LEFT_OUT.get(route.name)
                    )
                if not ok:
                    failures.append(f"{what} → {response.status_code}")
    assert not failures, "\n".join(failures)
    return checked


@pytest.mark.parametrize(("role", "auth"), HOME_ACTORS)
def test_school_bs_ids_are_not_found_on_school_as_host(role, auth, schools, school_b_data, db):
    client = client_as(schools.a, role, auth, schools.a.host)

    checked = walk_home_with_school_bs_ids(
        client, auth=auth, school_b_data=school_b_data, secrets_for=school_b_data.secrets_not_in
    )

    assert checked >= 100
    assert_school_b_unchanged(schools, school_b_data.content)
    with tenant_context(schools.a.tenant):
        made = Classroom.objects.filter(name=school_b_data.bodies["api-classes"]["name"])
        assert made.exists() == (role != "student")
        assert not made.filter(students__isnull=False).exists()


@pytest.mark.parametrize("auth", ["session", "token"])
def test_school_bs_owner_is_refused_school_bs_ids_on_school_as_host(
    auth, schools, school_b_data, db
):
    client = client_as(schools.b, "owner", auth, schools.a.host)
    checked, failures = 0, []
    for route in all_routes():
        if route.name in OPEN_BY_DESIGN:
            continue
        values = school_b_data.values_for(route, one_per_kind=True)
        for path in paths_with_real_values(route, values):
            for method in METHODS:
                response = send(client, method, path, school_b_data.bodies.get(route.name))
                checked += 1
                if not refused(auth, route, response):
                    failures.append(
                        f"{method.upper()} {path} ({route.name}) → {response.status_code}"
                    )
                # Their own address is theirs to see (the page says who is logged in).
                own = {schools.b.owner.email, *uuid_forms(str(schools.b.owner.public_id))}
                secrets = [s for s in school_b_data.secrets_not_in(path) if s not in own]
                assert_no_secrets(response, secrets, f"{method} {path} on A")

    assert not failures, "\n".join(failures)
    assert checked >= 100
    assert not Membership.objects.filter(user=schools.b.owner, tenant=schools.a.tenant).exists()
    assert_school_b_unchanged(schools, school_b_data.content)


# --- Signed media ---------------------------------------------------------------------------


def test_a_playback_url_of_school_b_plays_on_school_bs_host_only(schools, school_b_data, db):
    content = school_b_data.content
    recording = content.objects["recording"]
    # School B's student gets playback URLs for their recording, and they play there.
    own = client_for(schools.b.student, schools.b.host)
    answer = own.get(f"/api/v1/media/{recording.public_id}/")
    assert answer.status_code == 200
    fresh = answer.json()
    urls = [
        ("reply-recording-video", fresh["renditions"]["720p"]),
        ("reply-recording-poster", fresh["poster_url"]),
        *content.playback_urls.items(),
    ]
    for name, url in urls:
        path = urlsplit(url).path
        expected = content.file_bytes[name]
        played = Client(HTTP_HOST=schools.b.host).get(path)
        assert played.status_code == 200, name
        assert b"".join(played.streaming_content) == expected
        # The same URL on school A's host plays nothing, to anyone, whole or in part.
        for role, auth in [*HOME_ACTORS, ("anonymous", "anonymous")]:
            client = client_as(schools.a, role, auth, schools.a.host)
            for headers in ({}, {"HTTP_RANGE": "bytes=0-99"}):
                refused_here = client.get(path, **headers)
                assert refused_here.status_code == 404, (name, role, auth, headers)
                assert expected[:64] not in refused_here.content
                assert_no_secrets(refused_here, school_b_data.secrets_not_in(path), path)


@pytest.mark.parametrize(("role", "auth"), HOME_ACTORS)
def test_school_a_gets_no_playback_url_for_school_bs_media(role, auth, schools, school_b_data, db):
    for media_id in school_b_data.content.ids["media"]:
        for host, expected in ((schools.a.host, 404), (schools.b.host, 403)):
            response = client_as(schools.a, role, auth, host).get(f"/api/v1/media/{media_id}/")
            assert response.status_code == expected, (host, media_id)
            body = body_of(response)
            assert "media-signed" not in body and "renditions" not in body
            assert_no_secrets(response, school_b_data.secrets_not_in(media_id), media_id)


# --- Websockets -----------------------------------------------------------------------------


@pytest.fixture
def db_in_this_thread(db, monkeypatch):
    # See tests/tenants/test_websockets.py: keep the test's connection during the scenario.
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def websocket_paths() -> list[str]:
    return ["/" + str(pattern.pattern) for pattern in websocket_urlpatterns]


def test_school_as_members_are_refused_every_websocket_route_of_school_b(
    schools, school_b_data, db_in_this_thread
):
    cookies = {role: login_cookie(getattr(schools.a, role), schools.a.host) for role in ROLES}
    own = login_cookie(schools.b.student, schools.b.host)
    assert websocket_paths() == ["/ws/events/"]

    async def scenario():
        for path in websocket_paths():
            for role, cookie in cookies.items():
                socket = communicator(schools.b.host, cookie)
                socket.scope.update(path=path, raw_path=path.encode())
                connected, code = await socket.connect()
                assert (connected, code) == (False, CLOSE_FORBIDDEN), role
            # The same route lets school B's own member in, so the refusals are about A.
            socket = communicator(schools.b.host, own)
            socket.scope.update(path=path, raw_path=path.encode())
            assert (await socket.connect())[0]
            assert (await socket.receive_json_from())["tenant"] == schools.b.tenant.slug
            await socket.disconnect()

    run(scenario)


def test_school_as_sockets_never_receive_school_bs_events(
    schools, school_b_data, db_in_this_thread
):
    a, b, content = schools.a, schools.b, school_b_data.content
    cookies_a = {role: login_cookie(getattr(a, role), a.host) for role in ROLES}
    cookies_b = {role: login_cookie(getattr(b, role), b.host) for role in ("teacher", "student")}
    reply = content.objects["reply"]

    def school_b_acts():
        """A comment (live to the reply's viewers), a notification to everyone, an event to
        the whole school: the pushes school B's members should get."""
        with tenant_context(b.tenant), TestCase.captureOnCommitCallbacks(execute=True):
            teacher = member(b.teacher, b.tenant)
            replies.comment_create(
                member=teacher, reply=reply, body=secret("live-comment-body"), at_ms=900
            )
            notifications.notify(
                recipient_ids=[b.owner.pk, b.teacher.pk, b.student.pk],
                kind=Notification.Kind.DUE_REMINDER,
                title=secret("live-notification-title"),
                dedupe_key="isolation:live",
            )

    async def scenario():
        sockets_a = {role: communicator(a.host, cookie) for role, cookie in cookies_a.items()}
        sockets_b = {role: communicator(b.host, cookie) for role, cookie in cookies_b.items()}
        for socket in (*sockets_a.values(), *sockets_b.values()):
            assert (await socket.connect())[0]
            assert (await socket.receive_json_from())["type"] == "hello"

        await sync_to_async(school_b_acts)()
        await get_channel_layer().group_send(
            tenant_group(b.tenant, "all"),
            {"type": "tenant.event", "payload": {"type": secret("tenant-wide-event")}},
        )

        # School B's student hears all three (so the pushes were made) ...
        heard = [await sockets_b["student"].receive_json_from() for _ in range(4)]
        types = sorted(m["type"] for m in heard)
        assert types == sorted(
            ["comment.created", "notification", "notification", secret("tenant-wide-event")]
        ), types
        assert secret("live-comment-body") in str(heard)
        # ... and no socket of school A hears anything.
        for role, socket in sockets_a.items():
            assert await socket.receive_nothing(timeout=0.3), role
        for socket in (*sockets_a.values(), *sockets_b.values()):
            await socket.disconnect()

    run(scenario)


def test_the_same_member_reaches_their_own_school(schools, db):
    # The refusals above are about school B, not a broken login: the same clients get in at A.
    session = client_for(schools.a.owner, schools.a.host)
    api = token_client_for(schools.a.owner, schools.a.host)

    assert session.get("/").status_code == 200
    assert session.get("/api/v1/members/").status_code == 200
    assert api.get("/api/v1/members/").status_code == 200
    assert api.get("/api/schema/").status_code == 200
    for role, auth in HOME_ACTORS:
        client = client_as(schools.a, role, auth, schools.a.host)
        assert client.get("/api/v1/exercises/").status_code == 200, (role, auth)
