"""The page's uploader (templates/static/js/uploader.js, Uppy) in a real browser, on a live
stack (tests/support/e2e_server.py) for each storage backend: the local endpoint of the
embedded default, and moto's S3 server with presigned URLs, as in production. Both stacks
send the production settings' Content Security Policy, and no page breaks it.

A 60 MB file goes up in 8 parts, several at a time. To stop it at about half way, Playwright
holds back every part after the fourth (`page.route`: the request never leaves the browser)
once the server has stored four. Then the page is reloaded, and the upload resumes by itself
(golden-retriever kept the file and the upload; `listParts` tells it what the server has); or
it is paused and resumed; or the browser goes offline, the parts in flight fail, and the
upload goes on once it is back online; or it is cancelled. Either way the server receives the
other four parts only, each once, or, cancelled, nothing more, and the upload is gone. A part
answered 503 is sent again after Uppy's growing delays, and on a phone the controls fit. The
part PUTs are counted where they arrive: the local endpoint writes a line per part
(e2e_server.PartPutLog), and moto's server here is wrapped to note each UploadPart.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs

import boto3
import pytest
from django_tenants.utils import tenant_context
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from learning.models import MediaFile
from tests.conftest import PASSWORD
from tests.support import e2e_server
from tests.support.browser import committed, live_stack

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SIZE = 60 * 1000 * 1000  # 60 MB: 8 parts of 8 MiB, the last one shorter
PARTS = 8
HELD_AFTER = 4  # parts let through before the reload: about half the file
BUCKET = "practika-uploader-test"
UPLOAD_TIMEOUT_MS = 180_000
FORM = "/teach/exercises/new/"

# Prints the Content Security Policy that the production settings send, with `origin` (moto's
# server) as the media bucket's origin.


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("uploader") / "long-take.mp4"
    path.write_bytes(b"".join(uuid.uuid4().bytes * 62_500 for _ in range(SIZE // 1_000_000)))
    assert path.stat().st_size == SIZE
    return path


# --- moto's S3 server, noting each UploadPart --------------------------------------------------


class CountingMotoServer(ThreadedMotoServer):
    """moto's threaded server with a WSGI wrapper that notes each UploadPart it answers
    (part number, arrival, when its answer began, status), the S3 side's counterpart of
    e2e_server.PartPutLog."""

    def __init__(self):
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.puts: list[dict] = []
        self._lock = threading.Lock()

    def _counting(self, app):
        def wrapped(environ, start_response):
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if environ["REQUEST_METHOD"] != "PUT" or "partNumber" not in query:
                return app(environ, start_response)
            started, answer = time.time(), {}

            def noting(status, headers, *args):
                answer["status"], answer["at"] = int(status.split()[0]), time.time()
                return start_response(status, headers, *args)

            try:
                return list(app(environ, noting))
            finally:
                with self._lock:
                    self.puts.append(
                        {
                            "part": int(query["partNumber"][0]),
                            "start": started,
                            "end": answer.get("at", time.time()),
                            "status": answer.get("status"),
                        }
                    )

        return wrapped

    def _server_entry(self) -> None:
        app = self._counting(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture(scope="module")
def moto():
    server = CountingMotoServer()
    server.start()
    host, port = server.get_host_and_port()
    yield server, f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def production_policy(moto) -> str:
    """The production settings' Content Security Policy, which the live stacks here send on
    every page (e2e_server.PolicyHeader): the uploader must work under it (no inline script or
    style, no eval, parts sent only to the page's own host or the bucket)."""
    _server, endpoint = moto
    return e2e_server.production_policy(PRACTIKA_CSP_MEDIA_ORIGINS=endpoint)


@pytest.fixture(scope="module")
def local_stack(schools, django_db_blocker, tmp_path_factory, production_policy):
    """The live stack in the embedded default's mode (parts to the local endpoint), under the
    production policy."""
    env = {"PRACTIKA_E2E_CONTENT_SECURITY_POLICY": production_policy}
    with live_stack(schools, django_db_blocker, tmp_path_factory.mktemp("live-local"), env) as live:
        yield live


@pytest.fixture(scope="module")
def s3_stack(schools, django_db_blocker, tmp_path_factory, moto, production_policy):
    """The live stack in S3 mode (uploads and media in a bucket on moto's server), under the
    production policy."""
    _server, endpoint = moto
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    env = credentials | {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "PRACTIKA_E2E_CONTENT_SECURITY_POLICY": production_policy,
    }
    with live_stack(schools, django_db_blocker, tmp_path_factory.mktemp("live-s3"), env) as live:
        # The browser PUTs parts straight to the bucket from the tenant's pages, and reads
        # each part's ETag: the bucket's CORS allows it, as infra/terraform/s3.tf does.
        client.put_bucket_cors(
            Bucket=BUCKET,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [f"http://*.{e2e_server.BASE_DOMAIN}:{live.port}"],
                        "AllowedMethods": ["PUT", "GET", "HEAD"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 3000,
                    }
                ]
            },
        )
        yield live, client


def _open_form(browser, stack, schools):
    """A logged-in teacher's page, its console collected (the policy's violations show there)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"error: {error}"))
    _log_in(page, stack, schools.a.teacher)
    return context, page, console


def _violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line]


# --- The test -----------------------------------------------------------------------------------


def _log_in(page: Page, stack, user) -> None:
    page.goto(stack.url("school-a", "/accounts/login/"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, "login failed"


def _is_part(url: str) -> bool:
    return "/parts/" in url or "partNumber=" in url


def _wait_for(page: Page, condition, *, timeout: float, what):
    """Poll `condition` while Playwright runs the page's route handlers (the sync API handles
    its events only inside its own calls, so a plain sleep would stall the held requests)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        page.wait_for_timeout(200)
    return value


def _most_in_flight(puts: list[dict]) -> int:
    """The largest number of part PUTs the server had received and not yet answered at one
    moment. Sent one after another, that is 1: the next part leaves the browser only once the
    answer to the one before has arrived."""
    edges = sorted([(p["start"], 1) for p in puts] + [(p["end"], -1) for p in puts])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def _resumable_state_saved(page: Page) -> bool:
    """golden-retriever has stored the upload (localStorage) and the file (IndexedDB)."""
    return page.evaluate(
        """async () => {
            const key = Object.keys(localStorage).find((k) => k.startsWith('uppyState:'));
            const files = key && JSON.parse(localStorage.getItem(key)).metadata.files;
            const file = files && Object.values(files)[0];
            if (!file || !file.s3Multipart || !file.s3Multipart.uploadId) return false;
            const db = await new Promise((ok, no) => {
                const open = indexedDB.open('uppy-blobs');
                open.onsuccess = () => ok(open.result);
                open.onerror = () => no(open.error);
            });
            if (!db.objectStoreNames.contains('files')) return false;
            const count = await new Promise((ok) => {
                const request = db.transaction('files').objectStore('files').count();
                request.onsuccess = () => ok(request.result);
            });
            return count > 0;
        }"""
    )


def _start_and_hold_at_half(page: Page, stack, big_file, part_puts, console):
    """Open the form, choose `big_file`, and return once the server has stored HELD_AFTER
    parts while the browser holds the next ones back (`page.route`: they never leave it)
    and golden-retriever has saved the upload. Returns an event that lets parts through
    again once set, and the routes held so far."""
    held, let_through, release = [], [], threading.Event()

    def parts(route):
        if route.request.method == "PUT" and not release.is_set():
            if len(let_through) >= HELD_AFTER:
                held.append(route)  # never answered: a reload or a pause cancels it
                return
            let_through.append(route.request.url)
        route.continue_()

    def state():
        status = page.locator("[data-upload-status]").text_content()
        return f"parts {part_puts()}, status {status!r}, console {console}\n{stack.logs()}"

    page.route(_is_part, parts)
    page.goto(stack.url("school-a", FORM))
    page.set_input_files("[data-upload-input]", str(big_file))
    _wait_for(
        page,
        lambda: sum(p["status"] == 200 for p in part_puts()) >= HELD_AFTER,
        timeout=120,
        what=lambda: f"{HELD_AFTER} stored parts: {state()}",
    )
    _wait_for(page, lambda: held, timeout=30, what=lambda: f"a held part: {state()}")
    _wait_for(
        page,
        lambda: _resumable_state_saved(page),
        timeout=30,
        what=lambda: f"golden-retriever's state: {state()}",
    )
    return release, held


def _assert_resumed(before: list[dict], after: list[dict], part_puts) -> None:
    """The parts stored before the interruption were not sent again; the others once each."""
    stored = {p["part"] for p in before}
    assert len(before) == len(stored) == HELD_AFTER, before
    assert all(p["status"] == 200 for p in before), before
    assert sorted(p["part"] for p in after) == sorted(set(range(1, PARTS + 1)) - stored), after
    assert all(p["status"] == 200 for p in after), after
    assert len(part_puts()) == PARTS, part_puts()


def _upload_interrupted_by_reload(browser, stack, schools, big_file, part_puts):
    """Upload `big_file` as a teacher's demonstration, reload at half way, let it resume.
    `part_puts()` reads the server's record of part PUTs. Returns the stored media file."""
    context, page, console = _open_form(browser, stack, schools)
    try:
        reloaded, _held = _start_and_hold_at_half(page, stack, big_file, part_puts, console)
        before = list(part_puts())
        assert not page.locator("#id_demo").input_value()

        # Parts go through again only from the new document: a part the old one retries
        # while it unloads stays held, so no half-sent body reaches the server.
        reloaded_at = time.time()
        page.on("framenavigated", lambda frame: frame == page.main_frame and reloaded.set())
        page.reload()
        expect(page.locator("[data-upload-progress]")).to_be_visible()
        expect(page.locator("#id_demo")).not_to_have_value("", timeout=UPLOAD_TIMEOUT_MS)
        expect(page.locator("[data-upload-status]")).to_have_text(
            "Uploaded. Processing starts now."
        )
        media_id = page.locator("#id_demo").input_value()
    finally:
        context.close()

    assert not _violations(console), console
    after = [p for p in part_puts() if p["start"] >= reloaded_at]
    # Resumed from the stored parts: only the others were sent, each once.
    _assert_resumed(before, after, part_puts)
    return _stored_media(schools, media_id)


def _upload_paused_and_resumed(browser, stack, schools, big_file, part_puts):
    """Pause at half way, then resume: the server is asked what it has, the rest is sent."""
    context, page, console = _open_form(browser, stack, schools)
    pause = page.locator("[data-upload-pause]")
    try:
        release, _held = _start_and_hold_at_half(page, stack, big_file, part_puts, console)
        before = list(part_puts())
        expect(pause).to_have_text("Pause")
        pause.click()
        expect(pause).to_have_text("Resume")
        expect(page.locator("[data-upload-status]")).to_contain_text("Paused")
        release.set()
        page.wait_for_timeout(1000)
        assert part_puts() == before, "a paused upload sent parts"
        resumed_at = time.time()
        pause.click()
        expect(page.locator("#id_demo")).not_to_have_value("", timeout=UPLOAD_TIMEOUT_MS)
        media_id = page.locator("#id_demo").input_value()
    finally:
        context.close()
    assert not _violations(console), console
    _assert_resumed(before, [p for p in part_puts() if p["start"] >= resumed_at], part_puts)
    return _stored_media(schools, media_id)


def _upload_through_a_lost_connection(browser, stack, schools, big_file, part_puts):
    """At half way the browser goes offline and the parts in flight fail: the upload waits,
    and goes on by itself once the connection is back, sending each missing part once."""
    context, page, console = _open_form(browser, stack, schools)
    try:
        release, held = _start_and_hold_at_half(page, stack, big_file, part_puts, console)
        before = list(part_puts())
        context.set_offline(True)
        release.set()
        for route in list(held):
            route.abort("internetdisconnected")
        expect(page.locator("[data-upload-status]")).to_contain_text("Offline")
        page.wait_for_timeout(1000)
        assert part_puts() == before, "parts went up while offline"
        assert not page.locator("#id_demo").input_value()
        back_at = time.time()
        context.set_offline(False)
        expect(page.locator("#id_demo")).not_to_have_value("", timeout=UPLOAD_TIMEOUT_MS)
        media_id = page.locator("#id_demo").input_value()
    finally:
        context.close()
    assert not _violations(console), console
    _assert_resumed(before, [p for p in part_puts() if p["start"] >= back_at], part_puts)
    return _stored_media(schools, media_id)


def _teachers_unfinished_upload(schools) -> MediaFile | None:
    def find():
        with tenant_context(schools.a.tenant):
            media = MediaFile.objects.filter(
                owner=schools.a.teacher, state=MediaFile.State.AWAITING_UPLOAD, declared_bytes=SIZE
            )
            return media.order_by("-pk").first()

    return committed(find)


def _upload_cancelled(browser, stack, schools, big_file, part_puts, pending) -> None:
    """Cancel at half way: the page calls our abort, and the upload is gone on the server:
    its media file, and its parts in storage (`pending(key)` lists an unfinished upload's)."""
    context, page, console = _open_form(browser, stack, schools)
    try:
        _start_and_hold_at_half(page, stack, big_file, part_puts, console)
        media = _teachers_unfinished_upload(schools)
        assert media is not None
        assert pending(media.source_key), "the upload's parts are in storage"
        page.click("[data-upload-cancel]")
        expect(page.locator("[data-upload-status]")).to_have_text("Upload cancelled.")
        _wait_for(
            page,
            lambda: _teachers_unfinished_upload(schools) is None,
            timeout=30,
            what="the upload's media file to be deleted",
        )
        # A reload does not bring a cancelled upload back.
        page.reload()
        page.wait_for_timeout(1500)
        expect(page.locator("[data-upload-progress]")).to_be_hidden()
    finally:
        context.close()
    assert not _violations(console), console
    assert len(part_puts()) == HELD_AFTER, part_puts()
    assert pending(media.source_key) == []


def _stored_media(schools, media_id: str) -> MediaFile:
    with tenant_context(schools.a.tenant):
        media = MediaFile.objects.get(public_id=media_id)
    assert media.size_bytes == SIZE
    assert media.state != MediaFile.State.AWAITING_UPLOAD
    return media


def _upload_straight(browser, stack, schools, big_file, part_puts) -> MediaFile:
    """Upload `big_file` with nothing in the way: the parts go up several at a time."""
    context, page, console = _open_form(browser, stack, schools)
    try:
        page.goto(stack.url("school-a", FORM))
        page.set_input_files("[data-upload-input]", str(big_file))
        expect(page.locator("#id_demo")).not_to_have_value("", timeout=UPLOAD_TIMEOUT_MS)
        media_id = page.locator("#id_demo").input_value()
        assert not _violations(console), console
        # The policy was in force: an inline style is refused.
        page.evaluate(
            "document.head.append(Object.assign(document.createElement('style'),"
            " {textContent: 'body { color: red; }'}))"
        )
        page.wait_for_timeout(200)
        assert _violations(console), console
    finally:
        context.close()
    puts = part_puts()
    assert sorted(p["part"] for p in puts) == list(range(1, PARTS + 1)), puts
    # In parallel: the server was receiving several parts at the same moment.
    assert _most_in_flight(puts) >= 2, puts
    return _stored_media(schools, media_id)


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture
def forget_uploads(schools):
    """Deletes the media files the teacher uploads in a test, even when it fails: the session's
    schools are kept between runs (--reuse-db), and stored bytes count against their plan."""

    def teachers_media():
        with tenant_context(schools.a.tenant):
            media = MediaFile.objects.filter(owner=schools.a.teacher)
            return set(media.values_list("pk", flat=True))

    before = committed(teachers_media)
    yield

    def delete():
        with tenant_context(schools.a.tenant):
            MediaFile.objects.filter(pk__in=teachers_media() - before).delete()

    committed(delete)


@pytest.fixture(params=["local", "s3"])
def backend(request, schools, forget_uploads):
    """The live stack with the record of part PUTs (since now) and a reader of stored objects,
    on the local endpoint (the embedded default) or on moto's S3 server."""
    if request.param == "local":
        live = request.getfixturevalue("local_stack")
        start = len(live.part_puts())
        yield SimpleNamespace(
            stack=live,
            part_puts=lambda: live.part_puts()[start:],
            read=lambda key: (live.data / "private-media" / key).read_bytes(),
            # The local backend keeps an unfinished upload's parts in <key>.upload-<id>/.
            pending=lambda key: sorted(
                folder.name
                for folder in (live.data / "private-media" / key).parent.glob("*.upload-*")
            ),
        )
    else:
        live, client = request.getfixturevalue("s3_stack")
        server, _ = request.getfixturevalue("moto")
        start = len(server.puts)
        yield SimpleNamespace(
            stack=live,
            part_puts=lambda: server.puts[start:],
            read=lambda key: client.get_object(Bucket=BUCKET, Key=key)["Body"].read(),
            pending=lambda key: [
                u["UploadId"]
                for u in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
                if u["Key"] == key
            ],
        )


def test_parts_go_up_in_parallel(browser, backend, schools, big_file):
    media = _upload_straight(browser, backend.stack, schools, big_file, backend.part_puts)
    assert _md5(backend.read(media.source_key)) == _md5(big_file.read_bytes())


def test_upload_resumes_after_a_reload_without_sending_stored_parts_again(
    browser, backend, schools, big_file
):
    media = _upload_interrupted_by_reload(
        browser, backend.stack, schools, big_file, backend.part_puts
    )
    assert _md5(backend.read(media.source_key)) == _md5(big_file.read_bytes())


def test_pause_then_resume_sends_only_the_missing_parts(browser, backend, schools, big_file):
    media = _upload_paused_and_resumed(browser, backend.stack, schools, big_file, backend.part_puts)
    assert _md5(backend.read(media.source_key)) == _md5(big_file.read_bytes())


def test_cancel_aborts_the_upload_on_the_server(browser, backend, schools, big_file):
    _upload_cancelled(browser, backend.stack, schools, big_file, backend.part_puts, backend.pending)


def test_upload_goes_on_after_a_lost_connection(browser, backend, schools, big_file):
    media = _upload_through_a_lost_connection(
        browser, backend.stack, schools, big_file, backend.part_puts
    )
    assert _md5(backend.read(media.source_key)) == _md5(big_file.read_bytes())


def test_on_a_phone_the_upload_s_buttons_keep_their_words_inside(
    browser, local_stack, schools, big_file, forget_uploads
):
    # At 390 px the status sentence beside Pause/Resume and Cancel squeezed them until their
    # words spilled over their borders.
    start = len(local_stack.part_puts())
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    try:
        _log_in(page, local_stack, schools.a.teacher)
        _start_and_hold_at_half(
            page, local_stack, big_file, lambda: local_stack.part_puts()[start:], console
        )
        page.click("[data-upload-pause]")
        expect(page.locator("[data-upload-pause]")).to_have_text("Resume")
        for selector in ("[data-upload-pause]", "[data-upload-cancel]"):
            fits = page.locator(selector).evaluate(
                "b => b.scrollWidth <= b.clientWidth && b.getBoundingClientRect().right"
                " <= b.closest('.upload-row').getBoundingClientRect().right"
            )
            assert fits, selector
        page.click("[data-upload-cancel]")
        expect(page.locator("[data-upload-status]")).to_have_text("Upload cancelled.")
    finally:
        context.close()


def test_a_part_the_server_fails_is_sent_again_after_a_growing_delay(
    browser, local_stack, schools, tmp_path, forget_uploads
):
    # A file of one part, so that nothing else queues for the connection: its first two tries
    # are answered 503 by the browser's network layer (they never reach the server), and Uppy
    # sends it again after each of RETRY_DELAYS_MS (0 ms, then 1 s).
    small = tmp_path / "short-take.mp4"
    small.write_bytes(uuid.uuid4().bytes * 200_000)  # 3.2 MB
    start = len(local_stack.part_puts())
    tries: list[float] = []

    def parts(route):
        if route.request.method == "PUT":
            tries.append(time.monotonic())
            if len(tries) <= 2:
                route.fulfill(status=503, body="Slow down")
                return
        route.continue_()

    context, page, console = _open_form(browser, local_stack, schools)
    try:
        page.route(_is_part, parts)
        page.goto(local_stack.url("school-a", FORM))
        page.set_input_files("[data-upload-input]", str(small))
        expect(page.locator("#id_demo")).not_to_have_value("", timeout=UPLOAD_TIMEOUT_MS)
        media_id = page.locator("#id_demo").input_value()
    finally:
        context.close()
    assert not _violations(console), console
    assert len(tries) == 3, tries
    assert tries[1] - tries[0] < 0.5, tries  # the first retry at once
    assert tries[2] - tries[1] >= 0.9, tries  # the second after its second
    assert [p["part"] for p in local_stack.part_puts()[start:]] == [1]
    with tenant_context(schools.a.tenant):
        media = MediaFile.objects.get(public_id=media_id)
    stored = (local_stack.data / "private-media" / media.source_key).read_bytes()
    assert _md5(stored) == _md5(small.read_bytes())
