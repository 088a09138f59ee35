"""What the deletion tests share: real storage in both modes (a folder, or moto's S3 server over
HTTP with the real boto3), a tenant filled with content and stored objects, and a look at what
storage holds under a prefix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context
from moto.server import ThreadedMotoServer

from learning import storage
from learning.models import Classroom, Comment, MediaFile, Reply
from tenants.models import Tenant, User
from tests.support.factories import CommentFactory, ExerciseFactory, ReplyFactory

BUCKET = "practika-test-deletion"


@pytest.fixture(scope="session")
def moto_endpoint():
    # Port 0: the system picks a free one, so two test runs on one machine never share it.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Storage:
    """The storage mode in force for one test, and what it holds."""

    mode: str
    private_root: Path
    media_root: Path
    client: object | None = None

    def keys(self, prefix: str) -> list[str]:
        """Every object (and unfinished upload) under `prefix`, in private and default storage."""
        found: list[str] = []
        if self.client is not None:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix=prefix
            ):
                found += [item["Key"] for item in page.get("Contents", [])]
            uploads = self.client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
            found += [f"{u['Key']} (upload)" for u in uploads.get("Uploads", [])]
        else:
            found += _files(self.private_root, prefix)
        found += _files(self.media_root, prefix)
        return sorted(found)


def _files(root: Path, prefix: str) -> list[str]:
    base = root / prefix
    if base.is_file():
        return [prefix]
    if not base.exists():
        return []
    return [str(p.relative_to(root)) for p in base.rglob("*") if p.is_file()]


@pytest.fixture(params=["local", "s3"])
def real_storage(request, settings, tmp_path, monkeypatch) -> Storage:
    """Both storage modes, real: files in a folder, or moto's S3 server (the real boto3)."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media/"},
        },
    }
    mode = Storage(
        mode=request.param, private_root=tmp_path / "private", media_root=tmp_path / "media"
    )
    if request.param == "local":
        yield mode
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_ENDPOINT_URL = endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    mode.client = client
    yield mode
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=BUCKET)


@dataclass
class Content:
    """What `fill` made in one tenant (ids, read back inside its schema)."""

    exercise_ids: list[int] = field(default_factory=list)
    reply_ids: list[int] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    media_ids: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def store(media: MediaFile, tmp_path: Path) -> list[str]:
    """Real objects for a media file: its source and a rendition beside it."""
    sample = tmp_path / f"{media.public_id}.bin"
    sample.write_bytes(os.urandom(2048))
    folder = media.source_key.rsplit("/", 1)[0]
    keys = [media.source_key, f"{folder}/720p.mp4"]
    for key in keys:
        storage.upload(path=sample, key=key, content_type="video/mp4")
    return keys


def fill(tenant: Tenant, *, teacher: User, students: list[User], tmp_path: Path) -> Content:
    """An exercise by `teacher` with a stored demonstration, a reply with a stored recording from
    each student, a teacher's comment on each and a student's answer to it."""
    content = Content()
    with tenant_context(tenant):
        exercise = ExerciseFactory(created_by=teacher)
        content.exercise_ids.append(exercise.pk)
        content.media_ids.append(exercise.demo_id)
        content.keys += store(exercise.demo, tmp_path)
        for student in students:
            reply = ReplyFactory(exercise=exercise, student=student)
            teacher_comment = CommentFactory(reply=reply, author=teacher)
            answer = CommentFactory(reply=reply, author=student, parent=teacher_comment)
            content.reply_ids.append(reply.pk)
            content.comment_ids += [teacher_comment.pk, answer.pk]
            content.media_ids.append(reply.media_id)
            content.keys += store(reply.media, tmp_path)
    return content


def tenant_rows(tenant: Tenant) -> dict[str, int]:
    """How many core-loop rows the tenant's schema holds."""
    with tenant_context(tenant):
        return {
            "replies": Reply.objects.count(),
            "comments": Comment.objects.count(),
            "media": MediaFile.objects.count(),
            "classes": Classroom.objects.count(),
        }


def logo_save(tenant: Tenant) -> str:
    name = default_storage.save(
        f"tenants/{tenant.public_id}/branding/logo-test.png", ContentFile(b"\x89PNG logo")
    )
    tenant.logo.name = name
    tenant.save(update_fields=["logo"])
    return name
