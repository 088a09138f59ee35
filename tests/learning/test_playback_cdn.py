"""Playback through CloudFront: under the production settings, with the environment ECS gives
them (infra/terraform/ecs.tf), a ready recording's URLs are CloudFront URLs signed with the
configured key pair and expiry, and the policy lets pages play from the CDN.

The key pair is generated here; the signature is checked with its public half exactly as
CloudFront checks it (RSA-SHA1 over the canned policy, CloudFront's URL-safe base64).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parents[2]
CDN = "cdn.practika.example"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
EXPIRES_S = 450
TENANT = uuid.UUID("7c0c3d5e-8a47-4c59-9f0e-2b6f3f1d9a11")
MEDIA = uuid.UUID("0d7f2c1a-5b1e-4f9e-8c3d-6a2b1c0e9f88")

# Runs in the child, under config.settings.production: a ready media file (no database needed:
# media_playback reads the row it is given) in the tenant whose folder its keys are in.
PROBE = f"""
import json, types, uuid, django
django.setup()
from django.conf import settings
from django.db import connection
from learning.media.services import media_playback
from learning.models import MediaFile
connection.tenant = types.SimpleNamespace(public_id=uuid.UUID("{TENANT}"))
folder = "tenants/{TENANT}/media/{MEDIA}/"
media = MediaFile(
    state=MediaFile.State.READY,
    renditions={{"720p": folder + "720p.mp4", "360p": folder + "360p.mp4"}},
    poster_key=folder + "poster.jpg",
)
playback = media_playback(media=media)
print(json.dumps({{
    "renditions": playback.renditions,
    "poster": playback.poster,
    "csp": {{name: [str(v) for v in values]
            for name, values in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()}},
}}))
"""


@pytest.fixture(scope="module")
def key_pair():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _production(key_pair, **extra) -> subprocess.CompletedProcess:
    pem = key_pair.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "playback-cdn-test-" + "z" * 40,
        "PRACTIKA_BASE_DOMAIN": "practika.example",
        # Never connected to: the probe makes no query.
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
        "AWS_STORAGE_BUCKET_NAME": "practika-media",
        "AWS_S3_REGION_NAME": "eu-west-1",
        # What ecs.tf sets (the key from Secrets Manager as an environment variable).
        "PRACTIKA_MEDIA_CDN_DOMAIN": CDN,
        "AWS_CLOUDFRONT_KEY_ID": KEY_PAIR_ID,
        "AWS_CLOUDFRONT_KEY": pem,
        "PRACTIKA_PLAYBACK_URL_EXPIRES_S": str(EXPIRES_S),
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        **extra,
    }
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def production_playback(key_pair):
    before = time.time()
    result = _production(key_pair)
    after = time.time()
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), before, after


def _cloudfront_b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def _check_signed(url: str, key_pair, before: float, after: float) -> None:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"}, url
    assert query["Key-Pair-Id"] == [KEY_PAIR_ID]
    expires = int(query["Expires"][0])
    assert int(before) + EXPIRES_S <= expires <= int(after) + EXPIRES_S + 1
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    # The canned policy CloudFront rebuilds from the URL (its documented form, no spaces).
    policy = (
        '{"Statement":[{"Resource":"' + resource + '","Condition":{"DateLessThan":'
        '{"AWS:EpochTime":' + str(expires) + "}}}]}"
    )
    signature = _cloudfront_b64decode(query["Signature"][0])
    # CloudFront's scheme is RSA-SHA1.
    sha1 = hashes.SHA1()  # noqa: S303
    key_pair.public_key().verify(signature, policy.encode(), padding.PKCS1v15(), sha1)
    # And the signature binds the expiry: a later Expires no longer verifies.
    later = policy.replace(f":{expires}}}", f":{expires + 3600}}}")
    with pytest.raises(InvalidSignature):
        key_pair.public_key().verify(signature, later.encode(), padding.PKCS1v15(), sha1)


def test_production_playback_urls_are_cloudfront_signed_with_the_configured_expiry(
    production_playback, key_pair
):
    out, before, after = production_playback
    video = out["renditions"]["720p"]
    assert urlsplit(video).scheme == "https"
    assert urlsplit(video).netloc == CDN
    assert urlsplit(video).path == f"/tenants/{TENANT}/media/{MEDIA}/720p.mp4"
    _check_signed(video, key_pair, before, after)
    assert urlsplit(out["poster"]).netloc == CDN
    _check_signed(out["poster"], key_pair, before, after)


def test_a_rendition_no_page_plays_is_not_handed_out(production_playback):
    out, _, _ = production_playback
    assert set(out["renditions"]) == {"720p"}  # media processed before keep a 360p entry


def test_the_policy_lets_pages_play_media_and_posters_from_the_cdn(production_playback):
    csp = production_playback[0]["csp"]
    assert f"https://{CDN}" in csp["media-src"]
    assert f"https://{CDN}" in csp["img-src"]


def test_another_key_does_not_verify(production_playback):
    out, before, after = production_playback
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidSignature):
        _check_signed(out["renditions"]["720p"], other, before, after)


def test_a_cdn_domain_without_its_key_stops_the_production_settings(key_pair):
    result = _production(key_pair, AWS_CLOUDFRONT_KEY="")
    assert result.returncode != 0
    assert "AWS_CLOUDFRONT_KEY" in result.stderr
