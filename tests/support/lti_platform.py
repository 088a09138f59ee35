"""A real LTI 1.3 platform for the tests: lti1p3platform (an LMS-side implementation) with
its own RSA keys, plus a small HTTP server on 127.0.0.1 for the calls the tool makes to the
platform: its keyset, the client-credentials token endpoint, AGS scores and NRPS
memberships. The server records what it receives.

The browser's part of a launch (following the tool's login redirect to the platform, and the
platform's auto-posted form back to the tool) is played by a Django test client on the
school's host: `Platform.launch` does each step the way a browser would carry it.
"""

from __future__ import annotations

import json
import threading
import typing as t
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
)

# Any free port on loopback (0): several test runs may share the machine.
PORT = 0
CLIENT_ID = "practika-tool"
DEPLOYMENT_ID = "deployment-1"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
# Line items on which the platform answers a score with 404 (deleted in the LMS) or 503.
GONE_LINE_ITEM = "gone"
DOWN_LINE_ITEM = "down"
INTERNAL_SECRET = "AWS-SECRET-ACCESS-KEY-of-the-instance"


def rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class _Request(Request):
    """lti1p3platform's request from plain parts (a query, a form, headers, a JSON body)."""

    def build_metadata(self, request: dict) -> TRequest:
        return {
            "method": request.get("method", "GET"),
            "form_data": request.get("form", {}),
            "get_data": request.get("query", {}),
            "headers": request.get("headers", {}),
            "content_type": request.get("content_type"),
            "path": request.get("path", ""),
            "json": request.get("json"),
        }


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self.spec = kwargs

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        spec = self.spec
        return (
            Registration()
            .set_iss(spec["issuer"])
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(spec["tool_login_url"])
            .set_launch_url(spec["tool_launch_url"])
            .set_deeplink_launch_url(spec["tool_launch_url"])
            .set_platform_public_key(spec["public_key"])
            .set_platform_private_key(spec["private_key"])
            .set_tool_key_set(spec["tool_key_set"])
        )


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict, **kwargs: t.Any) -> dict:
        return launch_data


@dataclass
class LmsUser:
    sub: str
    roles: list[str]
    name: str = ""
    email: str | None = None

    def member(self) -> dict:
        entry = {"user_id": self.sub, "roles": self.roles, "name": self.name, "status": "Active"}
        if self.email:
            entry["email"] = self.email
        return entry


@dataclass
class Received:
    tokens: list[dict] = field(default_factory=list)
    scores: list[tuple[str, dict]] = field(default_factory=list)
    roster_requests: int = 0


class _Ags(AssignmentsGradesService):
    received: Received

    def find_lineitems(self, **kwargs):
        return {"content": [], "has_next": False, "next": None}

    def find_lineitem(self, line_item_id):
        return {"id": line_item_id, "scoreMaximum": 1, "label": "Exercise"}

    def create_lineitem(self, creation_data):
        return creation_data

    def update_lineitem(self, update_data):
        return update_data

    def delete_lineitem(self, line_item_id):
        return None

    def update_score(self, line_item_id, score):
        if line_item_id == GONE_LINE_ITEM:
            raise LineItemNotFoundException()
        self.received.scores.append((line_item_id, score))
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id, **kwargs):
        return {"content": [], "has_next": False, "next": None}


class _Nrps(NamesRoleProvisioningService):
    members: list[dict]
    context: Context

    def get_member_data_page(self, **kwargs):
        return {"content": list(self.members), "has_next": False, "next": None}

    def get_context_by_id(self):
        return self.context


class Platform:
    """One LMS: its keys, its course, its people, and the HTTP side of its services."""

    def __init__(self, *, port: int = PORT):
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.issuer = self.base
        self.private_key, self.public_key = rsa_pem_pair()
        self.received = Received()
        self.members: list[LmsUser] = []
        self.context = Context(id="course-101", label="VLN101", title="Violin 101")
        self.conf: PlatformConf | None = None
        # For browsers: who logs in next with each login hint (their `sub`), and the claims
        # of their launch; the platform's /auth page signs it and auto-posts it to the tool.
        self.expected: dict[str, tuple[LmsUser, dict]] = {}
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # What the school's admin copies from the LMS into Practika.
    def registration_fields(self) -> dict:
        return {
            "name": "Test LMS",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "deployment_ids": [DEPLOYMENT_ID],
            "auth_login_url": f"{self.base}/auth",
            "access_token_url": f"{self.base}/token",
            "jwks_url": f"{self.base}/jwks",
        }

    def register_tool(self, *, login_url: str, launch_url: str, tool_key_set: dict) -> None:
        """What the LMS's admin pastes from Practika's registration page."""
        self.conf = PlatformConf(
            issuer=self.issuer,
            tool_login_url=login_url,
            tool_launch_url=launch_url,
            public_key=self.public_key,
            private_key=self.private_key,
            tool_key_set=tool_key_set,
        )
        self.conf.get_registration()

    def lineitem_url(self, name: str) -> str:
        return f"{self.base}/lineitems/{name}"

    # --- the browser's part of a launch ------------------------------------------------------

    def login_initiation(self, user: LmsUser, *, hint: str = "resource-link-1") -> str:
        """The URL the LMS sends the browser to: the tool's login, with iss and hints."""
        assert self.conf is not None
        login = _Login(None, self.conf)
        login.set_lti_message_hint(hint=hint)
        return login.initiate_login(user.sub)

    def sign_launch(
        self,
        auth_request: dict,
        user: LmsUser,
        *,
        exercise: str | None = None,
        lineitem: str | None = None,
        deep_link_return_url: str | None = None,
    ) -> dict:
        """The platform's answer to the tool's authorisation request: a signed id_token
        (and the state), as its auto-posted form would carry them."""
        assert self.conf is not None
        launch = _Launch(_Request({"query": auth_request}), self.conf)
        launch.set_user_data(user.sub, user.roles, full_name=user.name, email_address=user.email)
        launch.set_launch_context_claim(
            self.context.id, context_title=self.context.title, context_label=self.context.label
        )
        launch.set_nrps(f"{self.base}/memberships")
        if deep_link_return_url:
            launch.set_dl(deep_link_return_url, title="Add an activity")
        else:
            launch.set_resource_link_claim("resource-link-1", title="Practika exercise")
            if exercise:
                launch.set_custom_parameters_claim({"exercise": exercise})
            if lineitem:
                launch.set_ags(f"{self.base}/lineitems", lineitem, allow_creating_lineitems=False)
        return launch.lti_launch()

    def forge(self, launch_data: dict, *, private_key: str) -> dict:
        """The same launch re-signed with another key, under the platform's own key id."""
        token = launch_data["id_token"]
        header = jwt.get_unverified_header(token)
        body = jwt.decode(token, options={"verify_signature": False})
        forged = jwt.encode(body, private_key, algorithm="RS256", headers={"kid": header["kid"]})
        return {**launch_data, "id_token": forged}

    def validate_deep_link_response(self, token: str) -> list[dict]:
        assert self.conf is not None
        return self.conf.validate_deeplinking_resp({"JWT": token})

    # --- the HTTP side --------------------------------------------------------------------------

    def __enter__(self) -> Platform:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: t.Any, content_type="application/json"):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _html(self, html: str):
                data = html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _request(self, method: str) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                content_type = self.headers.get("Content-Type", "")
                url = urlsplit(self.path)
                return {
                    "method": method,
                    "path": url.path,
                    "query": dict(parse_qsl(url.query)),
                    "headers": dict(self.headers),
                    "content_type": content_type,
                    "form": dict(parse_qsl(raw)) if "form" in content_type else {},
                    "json": json.loads(raw) if "json" in content_type and raw else None,
                }

            def do_GET(self):
                request = self._request("GET")
                conf = platform.conf
                if request["path"] == "/jwks":
                    return self._send(200, conf.get_jwks())
                if request["path"] == "/auth":
                    user, claims = platform.expected[request["query"]["login_hint"]]
                    launch = platform.sign_launch(request["query"], user, **claims)
                    return self._html(_auto_post_form(launch))
                if request["path"] == "/internal":  # what an address inside a network holds
                    body = INTERNAL_SECRET.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return None
                if request["path"] == "/memberships":
                    platform.received.roster_requests += 1
                    service = _Nrps(_Request(request), conf, f"{platform.base}/memberships")
                    service.members = [user.member() for user in platform.members]
                    service.context = platform.context
                    return self._respond(service.handle_resp(service.handle_get_members))
                return self._send(404, {"error": "not found"})

            def do_POST(self):
                request = self._request("POST")
                conf = platform.conf
                if request["path"] == "/token":
                    try:
                        token = conf.get_access_token(request["form"])
                    except Exception as error:  # the platform's refusal, as an OAuth error
                        return self._send(400, {"error": "invalid_client", "detail": str(error)})
                    platform.received.tokens.append(token)
                    return self._send(200, token)
                parts = request["path"].strip("/").split("/")
                if len(parts) == 3 and parts[0] == "lineitems" and parts[2] == "scores":
                    if parts[1] == DOWN_LINE_ITEM:
                        return self._send(503, {"error": "maintenance"})
                    service = _Ags(
                        _Request(request),
                        conf,
                        f"{platform.base}/lineitems",
                        platform.lineitem_url(parts[1]),
                    )
                    service.received = platform.received
                    return self._respond(
                        service.handle_resp(service.handle_update_score, line_item_id=parts[1])
                    )
                return self._send(404, {"error": "not found"})

            def _respond(self, response):
                body = response.result
                if body and isinstance(body, dict) and "content" in body:
                    body = body["content"]
                if response.code >= 400:
                    body = {"error": response.message}
                return self._send(response.code, body, response.media_type)

        return Handler


def _auto_post_form(launch: dict) -> str:
    """The LMS's page that posts the signed launch to the tool, as platforms do."""
    action, token, state = (escape(launch[k]) for k in ("launch_url", "id_token", "state"))
    return (
        f'<!doctype html><form method="post" action="{action}">'
        f'<input type="hidden" name="id_token" value="{token}">'
        f'<input type="hidden" name="state" value="{state}"></form>'
        "<script>document.forms[0].submit()</script>"
    )


def follow_login(client, url: str) -> dict:
    """A browser at the tool's login URL: returns the authorisation request the tool
    redirects it to (its query: state, nonce, redirect_uri, ...). The state cookie stays in
    `client`."""
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302, response.content[:500]
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def post_launch(client, launch_data: dict):
    """The platform's auto-posted form, arriving at the tool's launch URL."""
    path = urlsplit(launch_data["launch_url"]).path
    return client.post(path, {"id_token": launch_data["id_token"], "state": launch_data["state"]})
