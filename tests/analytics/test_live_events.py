"""Live events of analytics over the real ASGI application: a comment reaches the sockets of
those who may see the reply, in its own school only."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context

from tests.analytics.conftest import Loop
from tests.tenants.test_websockets import communicator, login_cookie, run


@pytest.fixture(autouse=True)
def db_in_this_thread(db, monkeypatch):
    # See tests/tenants/test_websockets.py: keep the test's connection during the scenario.
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def test_a_comment_reaches_its_school_and_never_the_other(
    schools, django_capture_on_commit_callbacks
):
    a, b = schools.a, schools.b
    loop = Loop(school=a, capture=django_capture_on_commit_callbacks)
    with tenant_context(a.tenant):
        reply = loop.reply(a.student, loop.publish(a.teacher))
    cookies = {
        "a_student": login_cookie(a.student, a.host),
        "a_other": login_cookie(a.other_student, a.host),
        "b_student": login_cookie(b.student, b.host),
        "b_teacher": login_cookie(b.teacher, b.host),
    }

    def comment():
        with tenant_context(a.tenant):
            loop.comment(a.teacher, reply, body="Breathe before the phrase")

    async def scenario():
        sockets = {
            "a_student": communicator(a.host, cookies["a_student"]),
            "a_other": communicator(a.host, cookies["a_other"]),
            "b_student": communicator(b.host, cookies["b_student"]),
            "b_teacher": communicator(b.host, cookies["b_teacher"]),
        }
        for socket in sockets.values():
            assert (await socket.connect())[0]
            assert (await socket.receive_json_from())["type"] == "hello"

        await sync_to_async(comment)()

        received = [await sockets["a_student"].receive_json_from() for _ in range(2)]
        by_type = {m["type"]: m for m in received}
        assert by_type["comment.created"]["reply"] == str(reply.public_id)
        assert by_type["comment.created"]["comment"]["body"] == "Breathe before the phrase"
        assert by_type["notification"]["unread"] >= 1
        assert by_type["notification"]["notification"]["kind"] == "new_comment"
        # Another student of the same school does not see this reply; school B sees nothing.
        assert await sockets["a_other"].receive_nothing(timeout=0.3)
        assert await sockets["b_student"].receive_nothing(timeout=0.2)
        assert await sockets["b_teacher"].receive_nothing(timeout=0.2)
        for socket in sockets.values():
            await socket.disconnect()

    run(scenario)
