"""The SES tracking webhook: bounces and complaints from Amazon SNS suppress addresses.

Routed on the public site only (config.urls_public), never on a tenant's host. anymail's
`AmazonSESTrackingWebhookView` parses SNS and SES, answers SNS's first unauthenticated try
with the 401 that makes it send basic auth, checks that auth (`ANYMAIL["WEBHOOK_SECRET"]`),
and confirms our subscription through the SNS API. What it leaves out ("Future: Verify SNS
message signature" in anymail 15), this view adds before anything is acted on: the message
must come from an allowed topic and carry a valid SNS signature (tenants.email.sns). A request
that fails any check gets 400 and changes nothing.
"""

from __future__ import annotations

import json
import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.base import AnymailBasicAuthMixin
from django.conf import settings

from tenants.email import sns
from tenants.email.services import email_suppress
from tenants.models import EmailSuppression

logger = logging.getLogger(__name__)


class SesTrackingWebhookView(AmazonSESTrackingWebhookView):
    # No secret means no webhook (validate_request refuses), rather than anymail's warning.
    warn_if_no_basic_auth = False

    def validate_request(self, request):
        # anymail runs every validate_request of the class chain, this one first: auth before
        # any work, then the body, the topic and the signature.
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure("The email webhook has no secret configured.")
        AnymailBasicAuthMixin.validate_request(self, request)
        try:
            message = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise AnymailWebhookValidationFailure("The SNS body is not JSON.") from error
        if not isinstance(message, dict):
            raise AnymailWebhookValidationFailure("The SNS body is not a JSON object.")
        request._sns_message = message  # anymail's own parse reads this
        # No topic configured means none is ours: SNS signs every account's messages, so
        # without the list a holder of the secret could subscribe a topic of their own and
        # suppress any address with a real signature.
        if message.get("TopicArn") not in settings.PRACTIKA_SES_EVENTS_TOPIC_ARNS:
            raise AnymailWebhookValidationFailure(
                f"SNS topic {message.get('TopicArn')!r} is not ours."
            )
        try:
            sns.verify(
                message,
                allowed_certificate_origins=settings.PRACTIKA_SNS_SIGNING_CERT_ORIGINS,
            )
        except sns.SignatureInvalid as error:
            raise AnymailWebhookValidationFailure(str(error)) from error


def suppress_on_bounce_or_complaint(sender, event: AnymailTrackingEvent, esp_name, **kwargs):
    """anymail's `tracking` signal: a permanent bounce or a complaint suppresses the address."""
    if not event.recipient:
        return
    if event.event_type == EventType.BOUNCED:
        bounce = (event.esp_event or {}).get("bounce", {})
        if bounce.get("bounceType") != "Permanent":
            return  # transient (mailbox full, ...): SES retries, we keep sending
        email_suppress(
            email=event.recipient,
            reason=EmailSuppression.Reason.BOUNCED,
            detail=event.mta_response or event.description or "",
        )
    elif event.event_type == EventType.COMPLAINED:
        email_suppress(
            email=event.recipient,
            reason=EmailSuppression.Reason.COMPLAINED,
            detail=event.description or "",
        )
