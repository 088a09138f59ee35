"""The local backend (the embedded default): objects are files under
`settings.PRIVATE_MEDIA_ROOT`, never served as static files. Parts are PUT to a Django
endpoint (learning.storage.views.upload_part) and playback goes through signed tokens
(learning.storage.tokens)."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from django.urls import reverse

from learning.storage.errors import (
    ObjectMissing,
    PartsInvalid,
    PendingUpload,
    StorageUnavailable,
    StoredObject,
    StoredPart,
)
from learning.storage.tokens import media_token

COPY_CHUNK_BYTES = 1024 * 1024


def _etag(digest: str) -> str:
    return f'"{digest}"'


def _plain_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


class LocalBackend:
    """Objects as files. Writes go to a temporary file in the tenant's `.incoming/` folder
    first and are renamed into place, so a killed process never leaves half an object under
    a real key, and the stray temporary file is swept later."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def _parts_dir(self, key: str, upload_id: str) -> Path:
        if not upload_id or not all(c in "0123456789abcdef" for c in upload_id):
            raise ObjectMissing("No such upload.")
        return self.path(f"{key}.upload-{upload_id}")

    def _incoming(self, key: str) -> Path:
        tenant_folder = "/".join(key.split("/")[:2])
        folder = self.path(f"{tenant_folder}/.incoming")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    def _io(self, action):
        try:
            return action()
        except FileNotFoundError as error:
            raise ObjectMissing(str(error)) from error
        except OSError as error:  # disk full, permissions, I/O error: an operator can fix it
            raise StorageUnavailable(str(error)) from error

    def multipart_start(self, key, content_type) -> str:
        upload_id = uuid.uuid4().hex
        self._io(lambda: self._parts_dir(key, upload_id).mkdir(parents=True))
        return upload_id

    def part_upload_urls(self, key, upload_id, token, count, expires_s) -> list[str]:
        return [
            reverse("upload-part", kwargs={"token": token, "number": n})
            for n in range(1, count + 1)
        ]

    def put_part(self, key, upload_id, number, stream: BinaryIO, max_bytes: int) -> str:
        folder = self._parts_dir(key, upload_id)
        if not folder.is_dir():
            raise ObjectMissing("This upload was completed or cancelled.")
        temp = folder / f"{number:05d}.{uuid.uuid4().hex}.part"
        digest = hashlib.md5(usedforsecurity=False)
        written = 0
        try:
            with temp.open("wb") as out:
                while chunk := stream.read(COPY_CHUNK_BYTES):
                    written += len(chunk)
                    if written > max_bytes:
                        raise PartsInvalid(f"Part {number} is larger than {max_bytes} bytes.")
                    digest.update(chunk)
                    out.write(chunk)
            # A retried part replaces the earlier attempt whole, like S3 does.
            os.replace(temp, folder / f"{number:05d}")
        except FileNotFoundError as error:  # cancelled while this part was arriving
            raise ObjectMissing(str(error)) from error
        except OSError as error:
            raise StorageUnavailable(str(error)) from error
        finally:
            temp.unlink(missing_ok=True)
        return _etag(digest.hexdigest())

    def list_parts(self, key, upload_id) -> list[StoredPart]:
        folder = self._parts_dir(key, upload_id)
        if not folder.is_dir():
            raise ObjectMissing("No such upload.")
        parts = []
        for path in sorted(folder.iterdir()):
            if path.name.isdigit():
                parts.append(
                    StoredPart(
                        number=int(path.name), etag=_etag(_md5_of(path)), size=path.stat().st_size
                    )
                )
        return parts

    def multipart_complete(self, key, upload_id, parts) -> None:
        folder = self._parts_dir(key, upload_id)
        if not folder.is_dir():
            raise ObjectMissing("This upload was completed or cancelled.")
        numbers = [n for n, _ in parts]
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise PartsInvalid("Parts must be numbered 1, 2, 3, … without gaps.")
        temp = self._incoming(key)
        try:
            with temp.open("wb") as out:
                for number, etag in parts:
                    part = folder / f"{number:05d}"
                    if not part.is_file():
                        raise PartsInvalid(f"Part {number} was not uploaded.")
                    digest = hashlib.md5(usedforsecurity=False)
                    with part.open("rb") as source:
                        while chunk := source.read(COPY_CHUNK_BYTES):
                            digest.update(chunk)
                            out.write(chunk)
                    if digest.hexdigest() != _plain_etag(etag):
                        raise PartsInvalid(f"Part {number} does not match its ETag.")
            self.path(key).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, self.path(key))
        except OSError as error:
            raise StorageUnavailable(str(error)) from error
        finally:
            temp.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)

    def multipart_abort(self, key, upload_id) -> None:
        if upload_id:
            shutil.rmtree(self._parts_dir(key, upload_id), ignore_errors=True)
            return
        for pending in self.pending_uploads(key):
            if pending.key == key:
                shutil.rmtree(self._parts_dir(key, pending.upload_id), ignore_errors=True)

    def pending_uploads(self, prefix) -> list[PendingUpload]:
        base = self.path(prefix.rsplit("/", 1)[0])
        if not base.is_dir():
            return []
        found = []
        for folder in base.rglob("*.upload-*"):
            if folder.is_dir():
                key, _, upload_id = str(folder.relative_to(self.root)).rpartition(".upload-")
                if key.startswith(prefix):
                    found.append(
                        PendingUpload(key=key, upload_id=upload_id, started=_mtime(folder))
                    )
        return found

    def size(self, key) -> int | None:
        try:
            return self.path(key).stat().st_size if self.path(key).is_file() else None
        except OSError as error:
            raise StorageUnavailable(str(error)) from error

    def download(self, key, path: Path) -> None:
        self._io(lambda: shutil.copyfile(self.path(key), path))

    def upload(self, path: Path, key, content_type) -> None:
        def write():
            temp = self._incoming(key)
            try:
                shutil.copyfile(path, temp)
                self.path(key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, self.path(key))
            finally:
                temp.unlink(missing_ok=True)

        self._io(write)

    def copy(self, source_key, key) -> None:
        """A copy of the object `source_key` as `key`, written whole before it appears."""

        def write():
            temp = self._incoming(key)
            try:
                shutil.copyfile(self.path(source_key), temp)
                self.path(key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, self.path(key))
            finally:
                temp.unlink(missing_ok=True)

        self._io(write)

    def list_objects(self, prefix) -> Iterator[StoredObject]:
        # Like S3: a prefix is a string prefix of keys, not necessarily a folder.
        base = self.path(prefix.rsplit("/", 1)[0])
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                key = str(path.relative_to(self.root))
                if key.startswith(prefix):
                    yield StoredObject(key=key, size=path.stat().st_size, modified=_mtime(path))

    def delete_prefix(self, prefix) -> int:
        count = 0
        for item in list(self.list_objects(prefix)):
            self.path(item.key).unlink(missing_ok=True)
            count += 1
        folder = self.path(prefix.rstrip("/"))
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        return count

    def delete_key(self, key) -> None:
        self._io(lambda: self.path(key).unlink(missing_ok=True))

    def playback_url(self, key, expires_s) -> str:
        return reverse("media-signed", kwargs={"token": media_token(key, expires_s)})

    def download_url(self, key, filename, content_type, expires_s) -> str:
        token = media_token(key, expires_s, filename=filename)
        return reverse("media-signed", kwargs={"token": token})

    def open_read(self, key) -> BinaryIO:
        return self._io(lambda: self.path(key).open("rb"))

    def open_write(self, key, content_type) -> _LocalWriter:
        return self._io(lambda: _LocalWriter(self, key))


class _LocalWriter:
    """A write-only stream into a temporary file, renamed into place on commit (like S3's
    CompleteMultipartUpload: no half-written object ever appears under the key). Not
    seekable, so that both backends get the same bytes from Python's zipfile."""

    def __init__(self, backend: LocalBackend, key: str):
        self.backend = backend
        self.key = key
        self.temp = backend._incoming(key)
        self.file = self.temp.open("wb")

    def write(self, data) -> int:
        try:
            return self.file.write(data)
        except OSError as error:
            raise StorageUnavailable(str(error)) from error

    def flush(self) -> None:
        self.file.flush()

    def commit(self) -> None:
        def finish():
            self.file.close()
            target = self.backend.path(self.key)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.temp, target)

        self.backend._io(finish)

    def abort(self) -> None:
        self.file.close()
        self.temp.unlink(missing_ok=True)


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as source:
        while chunk := source.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
