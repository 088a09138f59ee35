"""pylti1p3 behind one module: nothing else in Practika imports it.

The tool configuration is this school's `LtiRegistration` rows (we are in its schema: a
launch on school A's host can only match A's registrations). Launch state lives in the
cache (pylti1p3's cache storage, which keys it by tenant like every cache entry here), not
in Django's session: the LMS posts the launch cross-site, where a Lax session cookie is not
sent.

pylti1p3 checks that a launch's nonce is one we issued, but not that it is used once (a
replayed id_token with its state passes). `Launch` spends the nonce when everything else
has checked out, with an atomic cache add, so the second use of a launch is refused.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

import requests
from django.core.cache import cache
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, LtiServiceException, OIDCException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from pylti1p3.roles import AbstractRole
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract

from learning.lti.keys import public_jwk
from learning.models import LtiRegistration
from tenants.models import Role

logger = logging.getLogger(__name__)

# How long a login's nonce and a launch's data are kept (pylti1p3's default is a day; an
# hour bounds what anonymous login requests can put in the cache, and is plenty to pick an
# exercise). A spent nonce is remembered as long, so it cannot be used again while valid.
LAUNCH_DATA_LIFETIME_S = 60 * 60
NONCE_LIFETIME_S = LAUNCH_DATA_LIFETIME_S
SERVICE_TIMEOUT_S = 20

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


class LaunchRefused(Exception):
    """A login or launch we will not accept; `message` says why, for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PlatformUnavailable(ConnectionError):
    """The LMS answered a service call with a 5xx or 429: worth another try (an OSError,
    so learning.retries retries it)."""


class PlatformRefused(Exception):
    """The LMS refused a service call (4xx): a verdict, not retried."""


def registration_of(row: LtiRegistration) -> Registration:
    """pylti1p3's view of one registration row."""
    return (
        Registration()
        .set_issuer(row.issuer)
        .set_client_id(row.client_id)
        .set_auth_login_url(row.auth_login_url)
        .set_auth_token_url(row.access_token_url)
        .set_key_set_url(row.jwks_url)
        .set_tool_private_key(row.tool_private_key)
        .set_tool_public_key(row.tool_public_key)
    )


class ToolConf(ToolConfAbstract):
    """The current school's registrations; an issuer may have several client ids."""

    def __init__(self):
        super().__init__()
        self.matched: LtiRegistration | None = None

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _row(self, iss: str, client_id: str | None) -> LtiRegistration | None:
        rows = LtiRegistration.objects.filter(issuer=iss)
        if client_id:
            rows = rows.filter(client_id=client_id)
        found = list(rows[:2])
        # Without a client id (it is optional at login) only an unambiguous issuer matches.
        self.matched = found[0] if len(found) == 1 else None
        return self.matched

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration | None:
        row = self._row(iss, None)
        return registration_of(row) if row else None

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs):
        row = self._row(iss, client_id)
        return registration_of(row) if row else None

    def find_deployment(self, iss: str, deployment_id: str):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        row = self._row(iss, client_id)
        if row is None or deployment_id not in row.deployment_ids:
            return None
        return Deployment().set_deployment_id(deployment_id)


def _storage() -> DjangoCacheDataStorage:
    return DjangoCacheDataStorage(cache_name="default")


def oidc_login_redirect(request, *, launch_url: str):
    """Step one: the LMS's login initiation, answered with a redirect to its authorisation
    endpoint carrying a fresh state (cookie) and nonce."""
    try:
        login = DjangoOIDCLogin(request, ToolConf())
        login.set_launch_data_storage(_storage()).set_launch_data_lifetime(LAUNCH_DATA_LIFETIME_S)
        return login.redirect(launch_url)
    except (OIDCException, LtiException) as error:
        raise LaunchRefused(str(error)) from error


class Launch(DjangoMessageLaunch):
    def save_launch_data(self):
        nonce = self._jwt["body"].get("nonce", "")
        if not cache.add(f"lti-nonce-spent:{nonce}", True, timeout=NONCE_LIFETIME_S):
            raise LtiException("This launch was already used. Open the link in your LMS again.")
        return super().save_launch_data()


@dataclass(frozen=True)
class LaunchData:
    registration: LtiRegistration
    launch_id: str
    body: dict

    def claim(self, name: str, default: t.Any = None) -> t.Any:
        return self.body.get(CLAIM + name, default)

    @property
    def is_deep_link(self) -> bool:
        return self.claim("message_type") == "LtiDeepLinkingRequest"

    @property
    def ags(self) -> dict:
        return self.body.get(AGS_CLAIM) or {}

    @property
    def nrps(self) -> dict:
        return self.body.get(NRPS_CLAIM) or {}


# pylti1p3's reasons, in words for people. Its own text is shown only where it carries no
# fetched content: a JWKS URL answering with something other than JSON has its body in the
# message, which must never reach a page (an admin could point the URL inside our network).
REASONS = (
    ("Missing state param", "it carries no state. Open the link in your LMS again."),
    (
        "State not found",
        "it did not start from a login here, or took too long. Open the link in your LMS again.",
    ),
    ('"nonce" is empty', "it carries no nonce."),
    ("Invalid Nonce", "its nonce is not one Practika issued."),
    ("This launch was already used", None),
    ("Registration not found", "this LMS is not connected to this school."),
    ("Client id not registered", "this LMS is not connected to this school."),
    ("Unable to find deployment", "this LMS deployment is not connected to this school."),
    ("Unable to find public key", "the LMS signed it with a key its keyset does not publish."),
    ("Can't decode id_token: ", None),  # then pyjwt's short reason (a bad signature, expiry)
    ("Invalid response from", "Practika could not read the LMS's keyset (JWKS URL)."),
    ("Error during fetch URL", "Practika could not reach the LMS's keyset (JWKS URL)."),
)


def _reason(error: Exception) -> str:
    text = str(error)
    for prefix, sentence in REASONS:
        if text.startswith(prefix):
            if sentence is not None:
                return sentence
            if prefix.startswith("Can't decode"):
                return f"its signature does not check out ({text.removeprefix(prefix)})."
            return text
    logger.warning("LTI launch refused: %s", text)
    return "it could not be verified."


def launch_validate(request) -> LaunchData:
    """Step two: the id_token the LMS posted, checked by pylti1p3 (state, signature against
    the platform's JWKS, registration, deployment, message) and its nonce spent once."""
    conf = ToolConf()
    try:
        launch = Launch(request, conf, launch_data_storage=_storage())
        launch.set_launch_data_lifetime(LAUNCH_DATA_LIFETIME_S)
        body = launch.get_launch_data()
    except (LtiException, OIDCException, requests.RequestException) as error:
        raise LaunchRefused(_reason(error)) from error
    assert conf.matched is not None  # validation found the registration
    return LaunchData(registration=conf.matched, launch_id=launch.get_launch_id(), body=body)


class _Teaching(AbstractRole):
    _common_roles = ("Instructor", "Administrator", "TeachingAssistant")
    _system_roles = ("Administrator", "SysAdmin")
    _institution_roles = ("Administrator", "Faculty", "Instructor")
    _context_roles = ("Instructor", "Administrator", "TeachingAssistant")


class _Learning(AbstractRole):
    # Not pylti1p3's StudentRole: it counts the system role "User" (everyone has it, a
    # mentor too) and "Member" as students.
    _common_roles = ("Learner",)
    _institution_roles = ("Learner", "Student")
    _context_roles = ("Learner",)


def role_of(roles: list[str]) -> str | None:
    """Practika's role for a list of LTI roles (full LIS URIs or short names): Instructor
    (and its teaching-assistant sub-role) or Administrator teaches, a Learner studies;
    anything else (a mentor, a content developer, a guest) gets none."""
    body = {CLAIM + "roles": roles}
    if _Teaching(body).check():
        return Role.TEACHER
    if _Learning(body).check():
        return Role.STUDENT
    return None


def deep_link_response(
    request, *, launch_id: str, launch_url: str, title: str, resource_id: str
) -> tuple[str, str]:
    """The signed LtiDeepLinkingResponse for one resource link (opened in a new window:
    Practika's pages refuse to be framed), and the LMS URL to post it to."""
    try:
        launch = Launch.from_cache(launch_id, request, ToolConf(), launch_data_storage=_storage())
        deep_link = launch.get_deep_link()
    except LtiException as error:
        raise LaunchRefused(str(error)) from error
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(title)
        .set_custom_params({"exercise": resource_id})
        .set_target("window")
        # A gradebook column for it, which grade passback fills (scores out of 1).
        .set_lineitem(LineItem().set_label(title).set_score_maximum(1).set_resource_id(resource_id))
    )
    settings = launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]
    return deep_link.get_response_jwt([resource]), settings["deep_link_return_url"]


def _connector(row: LtiRegistration) -> ServiceConnector:
    session = requests.Session()
    session.request = _with_timeout(session.request)  # type: ignore[method-assign]
    return ServiceConnector(registration_of(row), requests_session=session)


def _with_timeout(send):
    def request(*args, **kwargs):
        kwargs.setdefault("timeout", SERVICE_TIMEOUT_S)
        return send(*args, **kwargs)

    return request


def _service_call(call):
    try:
        return call()
    except LtiServiceException as error:
        status = error.response.status_code
        if status >= 500 or status == 429:
            raise PlatformUnavailable(f"The LMS answered {status}.") from error
        raise PlatformRefused(f"The LMS refused the request ({status}).") from error
    except LtiException as error:
        raise PlatformRefused(str(error)) from error


def score_send(
    row: LtiRegistration,
    *,
    lineitem_url: str,
    scopes: list[str],
    sub: str,
    score_given: float,
    score_maximum: float,
    timestamp: str,
) -> None:
    """POST one score to a line item (AGS), with a client-credentials token."""
    ags = AssignmentsGradesService(_connector(row), {"scope": scopes, "lineitem": lineitem_url})
    grade = (
        Grade()
        .set_score_given(score_given)
        .set_score_maximum(score_maximum)
        .set_timestamp(timestamp)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(sub)
    )
    _service_call(lambda: ags.put_grade(grade))


def members_fetch(row: LtiRegistration, *, memberships_url: str) -> list[dict]:
    """Every member of a course (NRPS), following the platform's pages."""
    nrps = NamesRolesProvisioningService(
        _connector(row), {"context_memberships_url": memberships_url}
    )
    return _service_call(nrps.get_members)


def jwks(rows: t.Iterable[LtiRegistration]) -> dict:
    """The public keys of every registration of this school, for the LMS to check ours."""
    return {"keys": [public_jwk(row.tool_public_key) for row in rows]}
