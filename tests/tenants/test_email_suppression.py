"""SES bounces and complaints: signed as Amazon SNS signs them, posted to our webhook, they
suppress the address, and no email goes to it any more.

The true boundary faked here is Amazon itself: an RSA key and a self-signed certificate made in
the test stand in for SNS's, served over HTTP from a local server whose origin the test allows
(production allows only https://sns.<region>.amazonaws.com). The messages are the JSON SNS
posts (the SES notification inside), signed over the string AWS documents, built here
independently of tenants.email.sns. Subscription confirmations go to moto's SNS server through
the real boto3, as anymail sends them.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.core import mail
from django.core.mail import EmailMessage, send_mail
from django.test import Client
from moto.server import ThreadedMotoServer

from tenants.email import sns
from tenants.models import EmailSuppression
from tests.conftest import client_for

WEBHOOK = "/webhooks/email/ses/tracking/"
SECRET = "ses:webhook-test-secret"
REGION = "us-east-1"
TOPIC_NAME = "practika-ses-events"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:{TOPIC_NAME}"
CERT_PATH = "/SimpleNotificationService-0000000000000000000000.pem"
BOUNCED = "bounced-student@school-a.example.com"

pytestmark = pytest.mark.django_db


def _certificate(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


class _Certificates:
    """A local stand-in for SNS's certificate host; counts what it serves."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = _certificate(self.key)
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                if self.path != CERT_PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.send_header("Content-Length", str(len(outer.pem)))
                self.end_headers()
                self.wfile.write(outer.pem)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def certificates():
    served = _Certificates()
    yield served
    served.close()


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def webhook(settings, certificates, moto_endpoint, monkeypatch):
    """The production wiring with the test's stand-ins: every message through the suppressing
    backend (Django's test set-up puts locmem in EMAIL_BACKEND), our certificate host allowed."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.EMAIL_BACKEND = "tenants.email.backend.SuppressingEmailBackend"
    settings.PRACTIKA_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "AMAZON_SES_CLIENT_PARAMS": {"endpoint_url": moto_endpoint, "region_name": REGION},
    }
    settings.PRACTIKA_SNS_SIGNING_CERT_ORIGINS = [certificates.origin]
    settings.PRACTIKA_SES_EVENTS_TOPIC_ARNS = [TOPIC]
    sns.fetch_certificate.cache_clear()
    certificates.requests.clear()
    yield certificates
    sns.fetch_certificate.cache_clear()


# --- Messages as SNS sends them ------------------------------------------------------------

SIGNED = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ],
}


def _sign(message: dict, key, *, version: str = "1") -> dict:
    # https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
    canonical = "".join(
        f"{name}\n{message[name]}\n" for name in SIGNED[message["Type"]] if name in message
    )
    # SignatureVersion 1 is SNS's RSA-SHA1, 2 its RSA-SHA256.
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
    signature = base64.b64encode(key.sign(canonical.encode(), padding.PKCS1v15(), digest))
    return {**message, "SignatureVersion": version, "Signature": signature.decode()}


def _notification(ses_event: dict, certificates, **fields) -> dict:
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": json.dumps(ses_event),
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "SigningCertURL": certificates.origin + CERT_PATH,
        "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
        **fields,
    }


def _bounce(address: str, *, bounce_type: str = "Permanent") -> dict:
    # The shape of SES's bounce notification (docs: notification-contents.html).
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-12-01T10:00:00.000Z",
            "feedbackId": "0100018c-bounce",
        },
        "mail": {
            "timestamp": "2026-12-01T09:59:58.000Z",
            "source": "hello@practika.app",
            "messageId": "0100018c-message",
            "destination": [address],
        },
    }


def _complaint(address: str) -> dict:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": address}],
            "complaintFeedbackType": "abuse",
            "timestamp": "2026-12-01T10:00:00.000Z",
            "feedbackId": "0100018c-complaint",
        },
        "mail": {
            "messageId": "0100018c-message",
            "destination": [address],
            "source": "hello@practika.app",
            "timestamp": "2026-12-01T09:59:58.000Z",
        },
    }


def _post(message: dict, *, auth: str | None = SECRET, host: str = "practika.test"):
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": message.get("Type", ""),
        "HTTP_X_AMZ_SNS_MESSAGE_ID": message.get("MessageId", ""),
        "HTTP_X_AMZ_SNS_TOPIC_ARN": message.get("TopicArn", ""),
    }
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client(HTTP_HOST=host).post(
        WEBHOOK, json.dumps(message), content_type="text/plain; charset=UTF-8", **headers
    )


def _suppressed() -> dict[str, str]:
    return dict(EmailSuppression.objects.values_list("email", "reason"))


# --- The webhook ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_permanent_bounce_suppresses_the_address_and_no_mail_goes_to_it(webhook, version):
    message = _sign(_notification(_bounce(BOUNCED.upper()), webhook), webhook.key, version=version)

    response = _post(message)

    assert response.status_code == 200, response.content
    assert _suppressed() == {BOUNCED: "bounced"}
    assert EmailSuppression.objects.get().detail == "smtp; 550 5.1.1 user unknown"
    assert webhook.requests == [CERT_PATH]

    # No further email goes to it: alone it is not sent at all, beside others it is left out.
    mail.outbox.clear()
    assert send_mail("Your lesson", "Hello", None, [f"Student <{BOUNCED}>"]) == 0
    assert mail.outbox == []
    send_mail("Your lesson", "Hello", None, ["teacher@school-a.example.com", BOUNCED])
    EmailMessage("Digest", "Hi", None, ["other@example.com"], bcc=[BOUNCED.title()]).send()
    assert [message.recipients() for message in mail.outbox] == [
        ["teacher@school-a.example.com"],
        ["other@example.com"],
    ]


def test_a_forged_signature_is_refused_and_changes_nothing(webhook):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _sign(_notification(_bounce(BOUNCED), webhook), forger)

    response = _post(forged)

    assert response.status_code == 400
    assert _suppressed() == {}
    send_mail("Your lesson", "Hello", None, [BOUNCED])
    assert [message.to for message in mail.outbox] == [[BOUNCED]]


def test_a_message_changed_after_signing_is_refused(webhook):
    genuine = _sign(_notification(_bounce("someone@example.com"), webhook), webhook.key)
    tampered = {**genuine, "Message": json.dumps(_bounce(BOUNCED))}

    assert _post(tampered).status_code == 400
    assert _suppressed() == {}


@pytest.mark.parametrize(
    "change",
    [
        # A certificate anywhere but the allowed SNS host proves nothing: never fetched.
        {"SigningCertURL": "https://attacker.example/SimpleNotificationService-x.pem"},
        {"SigningCertURL": "http://127.0.0.1:1@attacker.example" + CERT_PATH},
        {"SignatureVersion": "3"},
        {"Signature": "not base64!"},
        {"TopicArn": f"arn:aws:sns:{REGION}:999999999999:someone-elses-topic"},
    ],
)
def test_messages_that_prove_nothing_are_refused(webhook, change):
    message = {**_sign(_notification(_bounce(BOUNCED), webhook), webhook.key), **change}

    assert _post(message).status_code == 400
    assert _suppressed() == {}
    assert webhook.requests == []


def test_without_basic_auth_sns_is_asked_for_it_and_a_wrong_secret_is_refused(webhook):
    message = _sign(_notification(_bounce(BOUNCED), webhook), webhook.key)

    first = _post(message, auth=None)
    assert first.status_code == 401
    assert first["WWW-Authenticate"].startswith("Basic")
    assert _post(message, auth="ses:wrong").status_code == 400
    assert _suppressed() == {}
    assert webhook.requests == []  # no work before the secret checks out


def test_without_a_configured_secret_the_webhook_takes_nothing(webhook, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    message = _sign(_notification(_bounce(BOUNCED), webhook), webhook.key)

    assert _post(message).status_code == 400
    assert _suppressed() == {}


def test_without_a_configured_topic_the_webhook_takes_nothing(webhook, settings):
    # Signed by SNS and with our secret, but from a topic nobody named ours.
    settings.PRACTIKA_SES_EVENTS_TOPIC_ARNS = []
    message = _sign(_notification(_bounce(BOUNCED), webhook), webhook.key)

    assert _post(message).status_code == 400
    assert _suppressed() == {}
    assert webhook.requests == []  # refused before its certificate was fetched


def test_the_webhook_is_on_the_public_site_only(webhook, school_a):
    message = _sign(_notification(_bounce(BOUNCED), webhook), webhook.key)

    assert _post(message, host=school_a.host).status_code == 404
    assert _suppressed() == {}


def test_a_complaint_suppresses_and_a_transient_bounce_does_not(webhook):
    _post(
        _sign(
            _notification(_bounce("full@example.com", bounce_type="Transient"), webhook),
            webhook.key,
        )
    )
    response = _post(_sign(_notification(_complaint("angry@example.com"), webhook), webhook.key))

    assert response.status_code == 200
    assert _suppressed() == {"angry@example.com": "complained"}


def test_a_signed_subscription_confirmation_is_confirmed_through_the_sns_api(
    webhook, moto_endpoint
):
    client = boto3.client("sns", endpoint_url=moto_endpoint, region_name=REGION)
    assert client.create_topic(Name=TOPIC_NAME)["TopicArn"] == TOPIC
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e2425c464de",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SigningCertURL": webhook.origin + CERT_PATH,
    }

    assert _post(_sign(confirmation, webhook.key, version="2")).status_code == 200
    # moto answers ConfirmSubscription for a topic that exists only: the call reached it.
    client.delete_topic(TopicArn=TOPIC)
    with pytest.raises(Exception, match="Topic does not exist"):
        _post(_sign(confirmation, webhook.key, version="2"))
    forged = _sign(confirmation, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert _post(forged).status_code == 400


# --- Production's delivery: anymail's SES backend behind the suppression list -------------


def test_through_the_ses_api_a_suppressed_address_gets_nothing(webhook, settings, moto_endpoint):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    settings.PRACTIKA_EMAIL_DELIVERY_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    boto3.client("ses", endpoint_url=moto_endpoint, region_name=REGION).verify_domain_identity(
        Domain="practika.app"
    )
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    sent.clear()
    _post(_sign(_notification(_bounce(BOUNCED), webhook), webhook.key))

    assert send_mail("Lesson", "Hi", "hello@practika.app", [BOUNCED]) == 0
    assert send_mail("Lesson", "Hi", "hello@practika.app", [BOUNCED, "ok@example.com"]) == 1

    # (moto lists each address twice: from the call and from the raw headers)
    assert [set(message.destinations) for message in sent] == [{"ok@example.com"}]
    assert BOUNCED not in sent[0].raw_data


# --- The members page ----------------------------------------------------------------------


def test_the_members_page_shows_whose_email_bounced(webhook, school_a):
    _post(_sign(_notification(_bounce(school_a.student.email), webhook), webhook.key))
    page = client_for(school_a.owner, school_a.host).get("/manage/members/").content.decode()

    row = next(r for r in page.split("<tr>") if school_a.student.email in r)
    assert "Email bounced" in row
    other = next(r for r in page.split("<tr>") if school_a.teacher.email in r)
    assert "Email bounced" not in other
