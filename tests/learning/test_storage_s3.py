"""S3 mode against moto's S3 server over HTTP, with the real boto3.

The browser's side is played by `requests`: it PUTs each part to its presigned URL and reads
the ETag header, exactly what the pages' uploader (templates/static/js/uploader.js) does.
Django only signs URLs.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.conf import settings
from django.utils import timezone
from moto.server import ThreadedMotoServer

from learning import storage
from learning.media import cleanup, tasks
from learning.models import MediaFile
from tests.conftest import client_for
from tests.support.media_samples import sample

BUCKET = "practika-test-media"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint, settings, monkeypatch):
    """S3 mode for one test, with an empty bucket; returns a boto3 client to inspect it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_ENDPOINT_URL = moto_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _browser_upload(client, data: bytes, *, purpose="reply") -> tuple[dict, list[dict]]:
    """Start through the API, then PUT the parts straight to S3 as a browser would."""
    response = client.post(
        "/api/v1/uploads/",
        {"purpose": purpose, "filename": "take.mp4", "size": len(data),
         "content_type": "video/mp4"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    ticket = response.json()
    done = []
    for part in ticket["parts"]:
        assert part["url"].startswith(f"{settings.AWS_S3_ENDPOINT_URL}/{BUCKET}/tenants/")
        query = parse_qs(urlsplit(part["url"]).query)
        assert "X-Amz-Signature" in query
        start = (part["number"] - 1) * ticket["part_size"]
        chunk = data[start : start + ticket["part_size"]]
        put = requests.put(part["url"], data=chunk, timeout=30)
        assert put.status_code == 200, put.text
        done.append({"number": part["number"], "etag": put.headers["ETag"]})
    return ticket, done


def test_presigned_upload_processing_and_playback_in_the_bucket(s3, school_a, in_tenant):
    # Given a student uploading a real video straight to the bucket
    client = client_for(school_a.student, school_a.host)
    data = sample("h264_aac.mp4").read_bytes()
    ticket, parts = _browser_upload(client, data)

    # When the upload is completed (processing is run below, as the worker would)
    response = client.post(
        _path(ticket["complete_url"]), {"parts": parts}, content_type="application/json"
    )

    # Then the object is in the bucket, under the school's folder
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "uploaded"
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.size_bytes == len(data)
        assert s3.get_object(Bucket=BUCKET, Key=media.source_key)["Body"].read() == data

        # When processing runs, it reads from and writes to the bucket
        assert tasks.process_media.apply(args=[media.pk]).get() == "ready"
        media.refresh_from_db()

    prefix = f"tenants/{school_a.tenant.public_id}/media/{media.public_id}/"
    assert sorted(_keys(s3)) == sorted(
        prefix + name for name in ("source", "720p.mp4", "poster.jpg", "waveform.json")
    )
    head = s3.head_object(Bucket=BUCKET, Key=prefix + "720p.mp4")
    assert head["ContentType"] == "video/mp4"

    # And playback URLs are presigned GETs that expire, and support Range
    detail = client.get(f"/api/v1/media/{media.public_id}/").json()
    url = detail["renditions"]["720p"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    assert urlsplit(url).path == f"/{BUCKET}/{prefix}720p.mp4"
    partial = requests.get(url, headers={"Range": "bytes=0-99"}, timeout=30)
    assert partial.status_code == 206
    assert len(partial.content) == 100
    assert requests.get(detail["poster_url"], timeout=30).content[:2] == b"\xff\xd8"  # JPEG

    # And nothing in the bucket lives outside the school's folder
    assert all(key.startswith(f"tenants/{school_a.tenant.public_id}/") for key in _keys(s3))


def test_multipart_upload_of_several_parts_and_cancel(s3, school_a, in_tenant):
    client = client_for(school_a.student, school_a.host)
    data = bytes(range(256)) * (9 * MiB // 256)
    ticket, parts = _browser_upload(client, data)
    assert len(parts) == 2

    client.post(_path(ticket["complete_url"]), {"parts": parts}, content_type="application/json")

    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        assert media.state == "uploaded"
        assert s3.get_object(Bucket=BUCKET, Key=media.source_key)["Body"].read() == data

    # A second upload, cancelled half-way, leaves nothing behind
    cancelled, _ = _browser_upload(client, data[: 6 * MiB])
    response = client.delete(_path(cancelled["abort_url"]))
    assert response.status_code == 204
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    with in_tenant(school_a.tenant):
        assert not MediaFile.objects.filter(public_id=cancelled["media"]["id"]).exists()
    assert all(key.startswith(f"tenants/{school_a.tenant.public_id}/") for key in _keys(s3))


def test_resume_lists_the_parts_already_in_the_bucket(s3, school_a):
    client = client_for(school_a.student, school_a.host)
    data = bytes(9 * MiB)
    response = client.post(
        "/api/v1/uploads/",
        {"purpose": "reply", "filename": "take.webm", "size": len(data)},
        content_type="application/json",
    )
    ticket = response.json()
    first = ticket["parts"][0]
    put = requests.put(first["url"], data=data[: 8 * MiB], timeout=30)

    status = client.get(_path(ticket["abort_url"])).json()

    assert status["uploaded_parts"] == [
        {"number": 1, "etag": put.headers["ETag"], "size": 8 * MiB}
    ]
    assert len(status["parts"]) == 2


def _start_only(client, data: bytes) -> dict:
    """An upload started, its parts in the bucket, never completed (a closed tab)."""
    ticket, _ = _browser_upload(client, data)
    return ticket


def test_deleting_and_sweeping_work_in_the_bucket(s3, school_a, in_tenant, monkeypatch):
    client = client_for(school_a.student, school_a.host)
    ticket, parts = _browser_upload(client, b"abc")
    client.post(_path(ticket["complete_url"]), {"parts": parts}, content_type="application/json")
    with in_tenant(school_a.tenant):
        media = MediaFile.objects.get(public_id=ticket["media"]["id"])
        prefix = storage.media_prefix(media.public_id)

        assert tasks.delete_stored_objects.apply(args=[[prefix]]).get() == 1

        assert _keys(s3) == []

    # Given, in the bucket: a recording still in use, the objects of a deleted one, an upload
    # abandoned two days ago, the multipart upload of a media row that is gone, a fresh upload
    def completed(data: bytes) -> MediaFile:
        ticket, parts = _browser_upload(client, data)
        response = client.post(
            _path(ticket["complete_url"]), {"parts": parts}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        return MediaFile.objects.get(public_id=ticket["media"]["id"])

    with in_tenant(school_a.tenant):
        kept = completed(b"kept")
        orphan = completed(b"orphan")
        MediaFile.objects.filter(pk=orphan.pk).delete()  # the row went, the objects stayed
        abandoned = _start_only(client, b"abandoned")
        MediaFile.objects.filter(public_id=abandoned["media"]["id"]).update(
            created_at=timezone.now() - timedelta(days=2)
        )
        forgotten = _start_only(client, b"forgotten")
        MediaFile.objects.filter(public_id=forgotten["media"]["id"]).delete()
        fresh = _start_only(client, b"fresh")
        uploads_before = {u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]}
        assert len(uploads_before) == 3
        assert {storage.media_prefix(m.public_id) + "source" for m in (kept, orphan)} <= set(
            _keys(s3)
        )

        # When the daily sweep runs two hours later (past the grace period for orphans; S3
        # dates its objects itself, so the sweep's clock moves instead)
        later = timezone.now() + timedelta(hours=2)
        monkeypatch.setattr(cleanup, "timezone", SimpleNamespace(now=lambda: later))
        result = tasks.sweep_tenant_media.apply().get()

        # Then what no media row needs is gone from the bucket, and the rest stays
        assert result == {"stale_uploads": 1, "orphaned_objects": 2}
        assert _keys(s3) == [storage.media_prefix(kept.public_id) + "source"]
        remaining = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        fresh_key = storage.media_prefix(fresh["media"]["id"]) + "source"
        assert [u["Key"] for u in remaining] == [fresh_key]
        assert not MediaFile.objects.filter(public_id=abandoned["media"]["id"]).exists()
        assert MediaFile.objects.filter(public_id=fresh["media"]["id"]).exists()
        assert MediaFile.objects.filter(pk=kept.pk).exists()
        assert s3.get_object(Bucket=BUCKET, Key=kept.source_key)["Body"].read() == b"kept"


def test_an_unreachable_endpoint_is_a_transient_error(s3, settings, school_a, in_tenant):
    with socket.socket() as probe_socket:  # a port nobody listens on
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"

    with in_tenant(school_a.tenant), pytest.raises(storage.StorageUnavailable):
        storage.object_size(f"{storage.tenant_prefix()}media/x/source")
