"""PostHog: the real SDK sends to a local capture server; with no key nothing is sent."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from analytics import product_analytics, services
from analytics.integrations import posthog
from billing import services as billing_services
from tenants import services as tenant_services
from tenants.models import User
from tests.conftest import member


class CaptureServer:
    """PostHog's ingestion endpoints on loopback, recording every event that arrives."""

    def __init__(self):
        self.events: list[dict] = []
        self.paths: list[str] = []
        self.keys: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                data = json.loads(body)
                server.paths.append(self.path)
                server.keys.append(data.get("api_key"))
                server.events += data.get("batch", [data])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": 1}')

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            posthog.flush()
            time.sleep(0.05)
        return self.events


@pytest.fixture
def capture_server(settings):
    server = CaptureServer()
    settings.POSTHOG_API_KEY = "phc_test_key"
    settings.POSTHOG_HOST = server.url
    yield server
    posthog.flush()
    server.httpd.shutdown()


def _by_name(events):
    return {e["event"]: e for e in events}


def test_core_loop_events_arrive_with_the_tenant_group_and_no_personal_data(
    loop, capture_server
):
    school = loop.school
    exercise = loop.publish(school.teacher)
    reply = loop.reply(school.student, exercise)
    loop.comment(school.teacher, reply, body="Secret comment text")
    with loop.capture(execute=True):
        services.compare_view_record(member=member(school.student, school.tenant), reply=reply)

    events = _by_name(capture_server.wait_for(4))

    assert set(events) == {"exercise_published", "reply_uploaded", "comment_created",
                           "compare_viewed"}
    assert capture_server.paths[0].startswith("/batch")
    assert set(capture_server.keys) == {"phc_test_key"}
    tenant_id = str(school.tenant.public_id)
    for event in events.values():
        assert event["properties"]["$groups"] == {"tenant": tenant_id}
    assert events["reply_uploaded"]["distinct_id"] == str(school.student.public_id)
    assert events["reply_uploaded"]["properties"]["reply"] == str(reply.public_id)
    assert events["exercise_published"]["distinct_id"] == str(school.teacher.public_id)
    assert events["comment_created"]["properties"]["role"] == "teacher"
    sent = json.dumps(capture_server.events)
    for secret in (school.student.email, school.teacher.email, "Secret comment text",
                   exercise.title, school.tenant.name):
        assert secret not in sent


def test_sign_ups_tenants_and_plan_changes_are_captured_from_the_public_schema(
    db, capture_server, settings
):
    settings.POSTHOG_API_KEY = ""
    product_analytics.public_events_capture()  # no key: only moves the cursor
    settings.POSTHOG_API_KEY = "phc_test_key"
    result = tenant_services.signup_with_tenant(
        email="new.teacher@example.com", password="a-long-enough-password-1",
        full_name="New Teacher", tenant_name="New Studio", slug="new-studio-ph", kind="studio",
    )
    staff = User.objects.create_user(email="staff-ph@example.com", is_staff=True)
    billing_services.subscription_assign_manual(
        actor=staff, plan_code="teacher", tenant=result.tenant
    )

    product_analytics.public_events_capture()
    product_analytics.public_events_capture()  # a second run finds nothing new

    events = capture_server.wait_for(4)
    names = sorted(e["event"] for e in events)
    assert names == ["plan_changed", "signed_up", "signed_up", "tenant_created"]
    by_name = _by_name(events)
    tenant_id = str(result.tenant.public_id)
    assert by_name["tenant_created"]["distinct_id"] == str(result.user.public_id)
    assert by_name["tenant_created"]["properties"]["$groups"] == {"tenant": tenant_id}
    assert by_name["tenant_created"]["properties"]["tenant_kind"] == "studio"
    assert by_name["plan_changed"]["properties"]["plan"] == "teacher"
    assert by_name["plan_changed"]["properties"]["$groups"] == {"tenant": tenant_id}
    assert "new.teacher@example.com" not in json.dumps(events)


def test_without_a_key_nothing_is_sent_and_nothing_fails(loop, settings):
    server = CaptureServer()
    settings.POSTHOG_API_KEY = ""
    settings.POSTHOG_HOST = server.url
    loop.reply(loop.school.student, loop.publish(loop.school.teacher))
    assert posthog.client() is None
    assert posthog.capture(event="x", distinct_id="y") is False
    product_analytics.public_events_capture()
    posthog.flush()
    time.sleep(0.3)
    assert server.events == [] and server.paths == []
    server.httpd.shutdown()


class StalledServer:
    """Accepts connections and never answers: the worst PostHog outage, a hung request."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def test_an_unreachable_server_never_fails_the_request(loop, settings):
    settings.POSTHOG_API_KEY = "phc_test_key"
    settings.POSTHOG_HOST = "http://127.0.0.1:9"  # nothing listens there
    posthog.client()  # the previous test's client is shut down here, not in the timed part
    started = time.monotonic()
    reply = loop.reply(loop.school.student, loop.publish(loop.school.teacher))
    assert reply.pk and time.monotonic() - started < 2


def test_a_server_that_never_answers_never_holds_up_the_request(loop, settings):
    server = StalledServer()
    settings.POSTHOG_API_KEY = "phc_test_key"
    settings.POSTHOG_HOST = server.url
    posthog.client()  # the previous test's client is shut down here, not in the timed part
    try:
        started = time.monotonic()
        reply = loop.reply(loop.school.student, loop.publish(loop.school.teacher))
        elapsed = time.monotonic() - started
        # A request that waited on the send would take the SDK's 5 s timeout at least.
        assert reply.pk and elapsed < 4, elapsed
        # The events did go out (to a server that hangs), so the bound above means something.
        deadline = time.monotonic() + 15
        while not server.accepted and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.accepted, "the SDK never tried to send"
    finally:
        server.close()
