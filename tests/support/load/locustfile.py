"""What the load test's members do: the requests a browser makes on each page, in order.

Read by locust (run.py starts it headless) with LOAD_PLAN naming the seed's plan, LOAD_REPLY
the recording students upload and LOAD_REPLY_SECONDS its length, LOAD_UPLOADS the most
uploads the whole run may start and LOAD_SUMMARY where the figures go when the run stops.

The server is reached on loopback as the load balancer reaches it: plain HTTP with the
tenant's host name and `X-Forwarded-Proto: https` (TLS ends at the balancer). The cookies are
`Secure`, which a client keeps only for https URLs, so each member carries its cookies itself,
as the browser does behind TLS; writes send the CSRF token and the page's Origin.

Students open their dashboard and exercises, report practice time, and reply: the upload API
(start, PUT each part to the URL it names, complete; as templates/static/js/uploader.js does),
the exercise page's form, then the compare page, whose scripts load the comments and the
analysis, count the view, mark the feedback seen and poll the recording's state until the
worker has processed it. Teachers open their dashboard, exercise list and inbox, and open
replies from the inbox on the compare page and comment on them.

Members take the time their requests say they took: a practice beacon reports 15 s of playing
after 15 s on the page, a reply is recorded for as long as the clip lasts before it is
uploaded, and a teacher comments on a moment after playing the reply up to it. Between
actions each member reads for 2 to 8 s (`wait_time`). Members arrive one by one: locust
starts each second's members (`--spawn-rate`) in one batch, at the same instant, so each waits a
random part of that second before its first page (`ARRIVAL_SPREAD_S`). Twenty first pages in
the same millisecond, each filling its member's caches, are no arrival a site sees; they made the
first ten seconds' p95 1 to 2 s (docs/scaling.md, "Tenth round").

A request fails when its status is not the one the browser expects (200, or the form's 302),
and an upload fails when the worker marks the recording failed.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import gevent
from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
REPLY_CLIP = Path(os.environ["LOAD_REPLY"]).read_bytes()
# As learning.js polls a recording's state: after 2 s, then each wait half as long again, at
# most 10 s.
MEDIA_POLL_FIRST_S, MEDIA_POLL_GROWTH, MEDIA_POLL_MOST_S = 2.0, 1.5, 10.0
MEDIA_WATCH_S = 60  # a member gives up watching after a minute; the worker carries on
PRACTICE_BEACON_S = 15  # practice.js reports time played every 15 s of playing
REPLY_SECONDS = float(os.environ["LOAD_REPLY_SECONDS"])  # the length of LOAD_REPLY
# locust's dispatcher starts floor(spawn rate) members every second, together.
ARRIVAL_SPREAD_S = 1.0
REQUEST_TIMEOUT_S = 30  # no one waits longer for a page: a slower answer is an error

STUDENTS = [m for m in PLAN["members"] if m["role"] == "student"]
TEACHERS = [m for m in PLAN["members"] if m["role"] == "teacher"]
_students = itertools.cycle(STUDENTS)
_teachers = itertools.cycle(TEACHERS)

# A refusal page's title and its sentence (tenants/forbidden.html, no_access.html, ...).
REFUSAL = re.compile(r"<title>(?P<title>.*?)</title>(?:.*?</h1>\s*<p>(?P<says>.*?)</p>)?", re.S)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REPLY_LINK = re.compile(r'href="/replies/([0-9a-f-]{36})/"')
COMPARE_CONFIG = re.compile(
    r'<script id="compare-config" type="application/json">(.*?)</script>', re.S
)


class Uploads:
    """The run's upload budget and what became of the uploads (one locust process)."""

    limit = int(os.environ.get("LOAD_UPLOADS", "0"))
    started = completed = ready = failed = watching_stopped = 0

    @classmethod
    def take(cls) -> bool:
        if cls.started >= cls.limit:
            return False
        cls.started += 1
        return True


def _why(response) -> str:
    """What a refusal said, for the report: the page's title and the sentence under its
    heading, or the API's error code (one line per kind of refusal, not per request)."""
    if response.status_code < 400:
        return ""
    if "json" in response.headers.get("Content-Type", ""):
        try:
            return f": {response.json().get('code', '')}"
        except ValueError:
            return ""
    match = REFUSAL.search(response.text)
    if match is None:
        return ""
    said = " — ".join(part for part in (match["title"], match["says"]) if part)
    return f": {' '.join(said.split())[:160]}"


class Member(HttpUser):
    abstract = True
    # Think time between actions: a member reads a page for a few seconds before the next.
    wait_time = between(2, 8)

    def on_start(self) -> None:
        gevent.sleep(random.uniform(0, ARRIVAL_SPREAD_S))
        self.member = next(self.members)
        self.host_name = self.member["host"]
        self.origin = f"https://{self.host_name}"
        self.cookies = {PLAN["session_cookie"]: self.member["session"]}
        self.csrf = ""

    # --- HTTP as a browser behind the load balancer --------------------------------------

    def _headers(self, *, write: bool, json_body: bool = False, referer: str = "/") -> dict:
        headers = {
            "Host": self.host_name,
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Referer": self.origin + referer,
        }
        if write:
            headers["Origin"] = self.origin
            headers["X-CSRFToken"] = self.csrf or self.cookies.get(PLAN["csrf_cookie"], "")
        if json_body:
            headers["Content-Type"] = "application/json"
            headers["Accept"] = "application/json"
        return headers

    def _request(self, method: str, path: str, *, name: str, expect: int = 200, **kwargs):
        """One request; fails unless the status is `expect`. Returns the response or None."""
        write = method not in ("GET", "HEAD")
        headers = self._headers(
            write=write, json_body="json" in kwargs, referer=kwargs.pop("referer", "/")
        ) | kwargs.pop("headers", {})
        with self.client.request(
            method,
            path,
            name=name,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
            timeout=REQUEST_TIMEOUT_S,
            **kwargs,
        ) as response:
            # Keep the cookies the server sets (Secure: the client would not send them back).
            for cookie in response.cookies:
                self.cookies[cookie.name] = cookie.value
            self.client.cookies.clear()
            if response.status_code != expect:
                response.failure(f"{response.status_code} (expected {expect}){_why(response)}")
                return None
            response.success()
            return response

    def page(self, path: str, *, name: str):
        response = self._request("GET", path, name=f"page {name}")
        if response is not None:
            match = CSRF_INPUT.search(response.text)
            if match:
                self.csrf = match.group(1)
        return response

    @staticmethod
    def fail(name: str, message: str) -> None:
        """A check on what came back failed (the request itself answered as expected)."""
        events.request.fire(
            request_type="check", name=name, response_time=0, response_length=0,
            exception=AssertionError(message), context={},
        )  # fmt: skip

    def api(self, method: str, path: str, *, name: str, expect: int = 200, **kwargs):
        return self._request(method, path, name=f"api {method} {name}", expect=expect, **kwargs)

    # --- What both roles do ----------------------------------------------------------------

    @task(3)
    def dashboard(self) -> None:
        self.page("/dashboard/", name=f"/dashboard/ ({self.role})")

    def compare(self, reply_id: str) -> dict | None:
        """The compare page and the calls its scripts make."""
        response = self.page(f"/replies/{reply_id}/", name="/replies/<id>/ (compare)")
        if response is None:
            return
        match = COMPARE_CONFIG.search(response.text)
        if not match:
            return self.fail("compare page", "the compare page has no compare-config")
        config = json.loads(match.group(1))
        self.api("GET", config["api"]["comments"], name="/api/v1/replies/<id>/comments/")
        if config["api"]["alignment"]:
            self.api("GET", config["api"]["alignment"], name="/api/v1/replies/<id>/alignment/")
        referer = f"/replies/{reply_id}/"
        self.api(
            "POST",
            "/api/v1/compare-views/",
            name="/api/v1/compare-views/",
            expect=204,
            json={"reply": reply_id},
            referer=referer,
        )
        self.api(
            "POST",
            f"/api/v1/replies/{reply_id}/seen/",
            name="/api/v1/replies/<id>/seen/",
            expect=204,
            json={},
            referer=referer,
        )
        return config


class Student(Member):
    members = _students
    role = "student"
    fixed_count = len(STUDENTS)

    @task(2)
    def exercises(self) -> None:
        self.page("/exercises/", name="/exercises/")

    @task(3)
    def practise(self) -> None:
        exercise = random.choice(self.member["exercises"])
        if self.page(f"/exercises/{exercise}/", name="/exercises/<id>/") is None:
            return
        # practice.js: time the demonstration played, every 15 s and when the page is hidden.
        time.sleep(PRACTICE_BEACON_S)
        self.api(
            "POST",
            "/api/v1/practice/",
            name="/api/v1/practice/",
            expect=204,
            json={"seconds": PRACTICE_BEACON_S, "kind": "playing", "exercise": exercise},
            referer=f"/exercises/{exercise}/",
        )

    @task(1)
    def my_replies(self) -> None:
        self.page("/replies/", name="/replies/")

    @task(2)
    def reply(self) -> None:
        if not Uploads.take():
            return self.practise()
        exercise = random.choice(self.member["exercises"])
        path = f"/exercises/{exercise}/"
        if self.page(path, name="/exercises/<id>/") is None:
            return
        time.sleep(REPLY_SECONDS)  # the recorder records the reply
        media = self.upload(referer=path)
        if media is None:
            return
        response = self._request(
            "POST",
            path,
            name="page POST /exercises/<id>/ (send reply)",
            expect=302,
            data={"media": media, "note": "", "csrfmiddlewaretoken": self.csrf},
            referer=path,
        )
        if response is None:
            return
        reply_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        config = self.compare(reply_id)
        if config is not None:
            self.watch(media, referer=f"/replies/{reply_id}/")

    def upload(self, *, referer: str) -> str | None:
        """Start, PUT the parts, complete: the uploader in uploader.js. Returns the media id."""
        body = REPLY_CLIP
        ticket = self.api(
            "POST",
            "/api/v1/uploads/",
            name="/api/v1/uploads/",
            expect=201,
            referer=referer,
            json={
                "purpose": "reply",
                "filename": "recording.webm",
                "size": len(body),
                "content_type": "video/webm",
            },
        )
        if ticket is None:
            return None
        ticket = ticket.json()
        parts = []
        for part in ticket["parts"]:
            start = (part["number"] - 1) * ticket["part_size"]
            url = urlsplit(part["url"])
            if url.hostname != self.host_name:  # local storage: the part URL is this host's
                raise RuntimeError(f"a part URL on another host: {part['url']}")
            sent = self._request(
                part["method"],
                url.path,
                name="storage PUT /uploads/<token>/parts/<n>",
                data=body[start : start + ticket["part_size"]],
                referer=referer,
                headers={"Content-Type": "application/octet-stream"},
            )
            if sent is None:
                return None
            parts.append({"number": part["number"], "etag": sent.headers["ETag"]})
        done = self.api(
            "POST",
            urlsplit(ticket["complete_url"]).path,
            name="/api/v1/uploads/<token>/complete/",
            json={"parts": parts},
            referer=referer,
        )
        if done is None:
            return None
        Uploads.completed += 1
        media = done.json()
        if media["state"] == "failed":
            Uploads.failed += 1
            return self.fail("upload", f"the upload was refused: {media.get('error_message')}")
        return media["id"]

    def watch(self, media: str, *, referer: str) -> None:
        """The compare page polls the recording's state until the worker has processed it."""
        wait, watched = MEDIA_POLL_FIRST_S, 0.0
        while watched + wait <= MEDIA_WATCH_S:
            time.sleep(wait)
            watched += wait
            wait = min(wait * MEDIA_POLL_GROWTH, MEDIA_POLL_MOST_S)
            response = self.api(
                "GET", f"/api/v1/media/{media}/", name="/api/v1/media/<id>/", referer=referer
            )
            if response is None:
                return
            state = response.json()["state"]
            if state == "ready":
                Uploads.ready += 1
                return
            if state == "failed":
                Uploads.failed += 1
                return self.fail("process recording", "the worker failed the recording")
        Uploads.watching_stopped += 1


class Teacher(Member):
    members = _teachers
    role = "teacher"
    fixed_count = len(TEACHERS)

    @task(1)
    def exercise_list(self) -> None:
        self.page("/teach/exercises/", name="/teach/exercises/")

    @task(4)
    def review(self) -> None:
        inbox = self.page("/teach/inbox/", name="/teach/inbox/")
        if inbox is None:
            return
        replies = REPLY_LINK.findall(inbox.text)
        if not replies:
            return self.fail("inbox", "the inbox lists no reply")
        reply_id = random.choice(replies)
        if self.compare(reply_id) is None:
            return
        at_ms = random.randrange(0, int(REPLY_SECONDS * 1000))
        time.sleep(at_ms / 1000)  # plays the reply up to the moment the comment is about
        self.api(
            "POST",
            f"/api/v1/replies/{reply_id}/comments/",
            name="/api/v1/replies/<id>/comments/",
            expect=201,
            json={
                "body": "Lovely tone; keep the tempo here.",
                "at_ms": at_ms,
            },
            referer=f"/replies/{reply_id}/",
        )


# --- The figures, written when the run stops --------------------------------------------------

_started: list[float] = []


@events.test_start.add_listener
def _on_start(environment, **_kwargs) -> None:
    _started.append(time.monotonic())


@events.quitting.add_listener
def _on_quit(environment, **_kwargs) -> None:
    stats = environment.stats
    wall = time.monotonic() - (_started[0] if _started else time.monotonic())
    endpoints = []
    for entry in stats.entries.values():
        endpoints.append(
            {
                "name": entry.name,
                "method": entry.method,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.50),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
                "rps": entry.num_requests / wall if wall else 0.0,
                "response_times": entry.response_times,
            }
        )
    summary = {
        "wall_s": wall,
        "endpoints": endpoints,
        "errors": [
            {"method": e.method, "name": e.name, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ],
        "uploads": {
            "limit": Uploads.limit,
            "started": Uploads.started,
            "completed": Uploads.completed,
            "ready": Uploads.ready,
            "failed": Uploads.failed,
            "gave_up_watching": Uploads.watching_stopped,
        },
    }
    Path(os.environ["LOAD_SUMMARY"]).write_text(json.dumps(summary))

