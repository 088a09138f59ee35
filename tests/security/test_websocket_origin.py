"""Finding 8: websockets accepted any Origin. A browser sends the member's cookie with the
handshake whatever page opened it, so any site the member visited could open their school's
live feed (cross-site websocket hijacking). Now the Origin must be the socket's own host; a
foreign one is refused before the tenant middleware or the consumer runs.

Through the real ASGI application (config.asgi) with the member's real session cookie; the
`db_in_this_thread` fixture is explained in tests/tenants/test_websockets.py.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.conf import settings

from config.asgi import application
from tests.conftest import Schools, client_for


@pytest.fixture(autouse=True)
def db_in_this_thread(db, monkeypatch):
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def handshake(host: str, session_key: str, origin: str | None) -> dict:
    """The server's first answer to a websocket handshake: accept or close."""
    headers = [(b"host", host.encode()),
               (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws",
        "path": "/ws/events/", "raw_path": b"/ws/events/", "query_string": b"",
        "headers": headers, "subprotocols": [], "client": ("127.0.0.1", 50000),
        "server": (host, 80),
    }

    async def scenario():
        socket = ApplicationCommunicator(application, scope)
        try:
            await socket.send_input({"type": "websocket.connect"})
            answer = await socket.receive_output(2)
            if answer["type"] == "websocket.accept":
                await socket.send_input({"type": "websocket.disconnect", "code": 1000})
                await socket.wait(2)
            return answer
        finally:
            await get_channel_layer().flush()

    return async_to_sync(scenario)()


@pytest.fixture
def member_session(schools: Schools) -> str:
    return client_for(schools.a.student, schools.a.host).cookies[
        settings.SESSION_COOKIE_NAME
    ].value


@pytest.mark.parametrize("origin", [
    "https://evil.example",
    "http://practika.test.evil.example",
    "http://school-b.practika.test",  # another tenant's pages
    "null",
    None,
])
def test_a_socket_opened_from_another_origin_is_refused(schools, member_session, origin):
    answer = handshake(schools.a.host, member_session, origin)

    assert answer["type"] == "websocket.close", f"{origin} opened the member's live feed"


def test_the_schools_own_pages_still_connect(schools, member_session):
    answer = handshake(schools.a.host, member_session, f"http://{schools.a.host}")

    assert answer["type"] == "websocket.accept"
