"""The tool's signing keys: one RSA key pair per registration (RS256, as LTI 1.3 requires)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

KEY_BITS = 2048


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str
    kid: str


def public_jwk(public_pem: str) -> dict:
    """The JWK a platform verifies our signatures with; its `kid` is the key's thumbprint,
    the same one pylti1p3 puts in the header of what it signs."""
    jwk = json.loads(JWK.from_pem(public_pem.encode()).export_public())
    jwk["alg"] = "RS256"
    jwk["use"] = "sig"
    return jwk


def key_pair_new() -> KeyPair:
    """A fresh RSA key pair in PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(
        private_pem=private_pem, public_pem=public_pem, kid=public_jwk(public_pem)["kid"]
    )
