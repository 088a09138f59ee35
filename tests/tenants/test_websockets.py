"""Websockets are tenant-scoped: only members connect, and a tenant's events reach only its
own sockets (tenants.websockets).

How these tests reach the database: the scenario runs through `async_to_sync` from the test's
thread, so the middleware's `database_sync_to_async` lookups (host, session, membership) run
back in this thread, on the test's connection and inside its transaction. Channels calls
`close_old_connections()` around each lookup, which would close that connection mid-test
(Django drops connections whose autocommit differs from the settings, as it does inside a
transaction); the `db_in_this_thread` fixture turns that clean-up off for these tests only.
That keeps ordinary rolled-back tests: `transaction=True` would flush the tables afterwards
and delete the session-wide schools.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.conf import settings

from config.asgi import application
from tenants.websockets import CLOSE_FORBIDDEN, CLOSE_UNKNOWN_TENANT, tenant_group
from tests.conftest import Schools, client_for


@pytest.fixture(autouse=True)
def db_in_this_thread(db, monkeypatch):
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def login_cookie(user, host: str) -> str:
    """The session cookie of `user` logged in on `host`."""
    return client_for(user, host).cookies[settings.SESSION_COOKIE_NAME].value


class Socket(ApplicationCommunicator):
    """A websocket client speaking ASGI to the real application.

    channels.testing.WebsocketCommunicator does the same, but importing channels.testing
    needs daphne, which Practika does not use (it serves ASGI with uvicorn).
    """

    def __init__(self, host: str, session_key: str | None = None):
        headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
        if session_key:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        scope = {
            "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws",
            "path": "/ws/events/", "raw_path": b"/ws/events/", "query_string": b"",
            "headers": headers, "subprotocols": [], "client": ("127.0.0.1", 50000),
            "server": (host, 80),
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 2) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        message = await self.receive_output(timeout)
        if message["type"] == "websocket.close":
            return False, message.get("code", 1000)
        assert message["type"] == "websocket.accept"
        return True, None

    async def receive_json_from(self, timeout: float = 2):
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def disconnect(self, timeout: float = 2) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout)


def communicator(host: str, session_key: str | None = None) -> Socket:
    return Socket(host, session_key)


def run(coroutine_function) -> None:
    """Run an async scenario from a sync test, then empty the in-memory channel layer."""

    async def scenario():
        try:
            await coroutine_function()
        finally:
            await get_channel_layer().flush()

    async_to_sync(scenario)()


def test_a_member_connects_to_their_school_and_is_greeted(schools: Schools):
    cookie = login_cookie(schools.a.student, schools.a.host)

    async def scenario():
        socket = communicator(schools.a.host, cookie)
        connected, _ = await socket.connect()
        assert connected
        assert await socket.receive_json_from(timeout=2) == {
            "type": "hello", "tenant": "school-a",
        }
        await socket.disconnect()

    run(scenario)


def test_a_member_of_school_a_is_refused_on_school_bs_host(schools: Schools):
    cookie = login_cookie(schools.a.owner, schools.a.host)

    async def scenario():
        socket = communicator(schools.b.host, cookie)
        connected, code = await socket.connect()
        assert not connected
        assert code == CLOSE_FORBIDDEN

    run(scenario)


def test_an_anonymous_visitor_is_refused(schools: Schools):
    async def scenario():
        socket = communicator(schools.a.host)
        connected, code = await socket.connect()
        assert not connected
        assert code == CLOSE_FORBIDDEN

    run(scenario)


@pytest.mark.parametrize("host", ["practika.test", "no-such-school.practika.test"])
def test_hosts_without_a_tenant_are_refused(host, schools: Schools):
    cookie = login_cookie(schools.a.owner, schools.a.host)

    async def scenario():
        socket = communicator(host, cookie)
        connected, code = await socket.connect()
        assert not connected
        assert code == CLOSE_UNKNOWN_TENANT

    run(scenario)


def test_an_event_for_school_a_reaches_school_a_and_never_school_b(
    schools: Schools
):
    cookie_a = login_cookie(schools.a.teacher, schools.a.host)
    cookie_b = login_cookie(schools.b.teacher, schools.b.host)

    async def scenario():
        socket_a = communicator(schools.a.host, cookie_a)
        socket_b = communicator(schools.b.host, cookie_b)
        assert (await socket_a.connect())[0]
        assert (await socket_b.connect())[0]
        await socket_a.receive_json_from(timeout=2)  # hello
        await socket_b.receive_json_from(timeout=2)
        layer = get_channel_layer()

        await layer.group_send(
            tenant_group(schools.a.tenant, "all"),
            {"type": "tenant.event", "payload": {"type": "reply.created", "n": 1}},
        )
        assert await socket_a.receive_json_from(timeout=2) == {"type": "reply.created", "n": 1}
        assert await socket_b.receive_nothing(timeout=0.3)

        # And the other way round, so the silence above is not a broken socket B.
        await layer.group_send(
            tenant_group(schools.b.tenant, "all"),
            {"type": "tenant.event", "payload": {"type": "reply.created", "n": 2}},
        )
        assert await socket_b.receive_json_from(timeout=2) == {"type": "reply.created", "n": 2}
        assert await socket_a.receive_nothing(timeout=0.3)

        await socket_a.disconnect()
        await socket_b.disconnect()

    run(scenario)


def test_personal_events_reach_only_that_user_in_that_tenant(schools: Schools):
    teacher = login_cookie(schools.a.teacher, schools.a.host)
    student = login_cookie(schools.a.student, schools.a.host)

    async def scenario():
        socket_teacher = communicator(schools.a.host, teacher)
        socket_student = communicator(schools.a.host, student)
        assert (await socket_teacher.connect())[0]
        assert (await socket_student.connect())[0]
        await socket_teacher.receive_json_from(timeout=2)
        await socket_student.receive_json_from(timeout=2)

        await get_channel_layer().group_send(
            tenant_group(schools.a.tenant, f"user.{schools.a.student.pk}"),
            {"type": "tenant.event", "payload": {"type": "feedback.ready"}},
        )
        assert await socket_student.receive_json_from(timeout=2) == {"type": "feedback.ready"}
        assert await socket_teacher.receive_nothing(timeout=0.3)
        # The same user's group in school B is a different group.
        assert tenant_group(schools.a.tenant, "user.1") != tenant_group(schools.b.tenant, "user.1")

        await socket_teacher.disconnect()
        await socket_student.disconnect()

    run(scenario)


def test_a_member_is_refused_while_the_school_is_being_deleted(schools: Schools):
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=schools.a.tenant.pk)  # the shared object stays as it was
    tenant.deletion_requested_at = timezone.now()
    tenant.deletion_due_at = timezone.now() + timedelta(days=30)
    tenant.save(update_fields=["deletion_requested_at", "deletion_due_at"])
    cookie = login_cookie(schools.a.student, schools.a.host)

    async def scenario():
        socket = communicator(schools.a.host, cookie)
        connected, code = await socket.connect()
        assert not connected
        assert code == CLOSE_FORBIDDEN

    run(scenario)
