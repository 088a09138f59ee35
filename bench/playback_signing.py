"""What signing a playback URL costs: CloudFront (production) against presigned S3.

    make bench                      (or: PYTHONPATH=platform:. python bench/playback_signing.py)
    BENCH playback_url_cloudfront_us <value> us
    BENCH playback_url_s3_presigned_us <value> us

A compare page signs four URLs (two renditions, two posters). CloudFront's canned policy is an
RSA-2048 signature (botocore's CloudFrontSigner with `cryptography`), S3's an HMAC: both run
in the web process, with no network. The median of 2,000 signatures each, after a warm-up.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
# Settings only for the app registry: nothing here touches a database.
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
os.environ.setdefault("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from learning.storage import s3  # noqa: E402

KEY = "tenants/7c0c3d5e-8a47-4c59-9f0e-2b6f3f1d9a11/media/0d7f2c1a/720p.mp4"
ROUNDS = 2000


def _median_us(sign) -> float:
    for _ in range(100):
        sign()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        sign()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def main() -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )
    client = s3.s3_client(None, "eu-west-1", "virtual")
    cdn = s3.S3Backend(client, "practika-media", s3.CloudFront("cdn.example", "K1", pem))
    presigned = s3.S3Backend(client, "practika-media")
    print(
        f"BENCH playback_url_cloudfront_us {_median_us(lambda: cdn.playback_url(KEY, 300)):.0f} us"
    )
    print(
        f"BENCH playback_url_s3_presigned_us "
        f"{_median_us(lambda: presigned.playback_url(KEY, 300)):.0f} us"
    )


if __name__ == "__main__":
    main()
