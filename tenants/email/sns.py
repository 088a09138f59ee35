"""Amazon SNS message signatures, checked as AWS documents them.

https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html

1. The certificate URL must be on an allowed origin (production: `https://sns.<region>.
   amazonaws.com`, exactly; tests serve their own certificate) and name a `.pem` file: a URL
   anywhere else could serve a key the sender made, which would prove nothing.
2. The certificate is fetched (and kept per URL for the process), must be current, and its
   RSA public key must verify `Signature` over the message's canonical string: the signed
   fields, each as "Name\\nvalue\\n", in byte order of their names.
3. `SignatureVersion` "1" is RSA with SHA-1, "2" RSA with SHA-256; any other is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The fields each message type signs, in the order AWS puts them in the string to sign.
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
# Notifications sign Subject only when they have one.
OPTIONAL_FIELDS = frozenset({"Subject"})
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
CERTIFICATE_TIMEOUT_S = 5
CERTIFICATE_MAX_BYTES = 64 * 1024


class SignatureInvalid(Exception):
    """The message is not provably from Amazon SNS."""


def string_to_sign(message: dict) -> bytes:
    fields = SIGNED_FIELDS.get(message.get("Type"))  # type: ignore[arg-type]
    if fields is None:
        raise SignatureInvalid(f"Unknown SNS message type {message.get('Type')!r}.")
    lines = []
    for name in fields:
        value = message.get(name)
        if value is None and name in OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            raise SignatureInvalid(f"The SNS message has no {name}.")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode()


def check_certificate_url(url: object, allowed_origins: Iterable[str]) -> str:
    """`url` if it names a .pem file on one of `allowed_origins` ("https://host[:port]")."""
    if not isinstance(url, str):
        raise SignatureInvalid("The SNS message has no SigningCertURL.")
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    allowed = {entry.rstrip("/").lower() for entry in allowed_origins}
    # netloc keeps any "user@" part, so "https://sns.<region>.amazonaws.com@evil" never matches.
    if origin not in allowed or not parts.path.endswith(".pem") or parts.query or parts.fragment:
        raise SignatureInvalid(f"SigningCertURL {url!r} is not an allowed SNS certificate.")
    return url


@functools.lru_cache(maxsize=16)
def fetch_certificate(url: str) -> x509.Certificate:
    """The PEM certificate at `url` (kept per URL: SNS rotates certificates by new URLs)."""
    try:
        response = requests.get(
            url, timeout=CERTIFICATE_TIMEOUT_S, allow_redirects=False, stream=True
        )
        body = response.raw.read(CERTIFICATE_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as error:
        raise SignatureInvalid(f"Could not fetch the SNS certificate {url}: {error}") from error
    if response.status_code != 200 or len(body) > CERTIFICATE_MAX_BYTES:
        raise SignatureInvalid(
            f"Could not fetch the SNS certificate {url} (HTTP {response.status_code})."
        )
    try:
        return x509.load_pem_x509_certificate(body)
    except ValueError as error:
        raise SignatureInvalid(f"The SNS certificate at {url} is not a PEM certificate.") from error


def verify(
    message: dict,
    *,
    allowed_certificate_origins: Iterable[str],
    fetch: Callable[[str], x509.Certificate] = fetch_certificate,
) -> None:
    """Raise SignatureInvalid unless `message` (a parsed SNS JSON body) is signed by SNS."""
    algorithm = HASHES.get(message.get("SignatureVersion"))  # type: ignore[arg-type]
    if algorithm is None:
        raise SignatureInvalid(
            f"Unsupported SNS SignatureVersion {message.get('SignatureVersion')!r}."
        )
    url = check_certificate_url(message.get("SigningCertURL"), allowed_certificate_origins)
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureInvalid("The SNS Signature is not base64.") from error
    signed = string_to_sign(message)
    certificate = fetch(url)
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SignatureInvalid("The SNS certificate is not valid now.")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureInvalid("The SNS certificate's key is not RSA.")
    try:
        public_key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature as error:
        raise SignatureInvalid("The SNS signature does not match the message.") from error
