"""What storage operations raise, and the plain records they return. Errors are translated
from the backend's own (botocore's, the file system's); `StorageUnavailable` means "try again
later", every other error is a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class StorageError(Exception):
    """Base of storage failures; the message is for logs, not for people."""


class StorageUnavailable(StorageError):
    """Storage is unreachable or overloaded: the same call may succeed later."""


class ObjectMissing(StorageError):
    """The object or the multipart upload does not exist (any more)."""


class PartsInvalid(StorageError):
    """The parts named at completion do not match the parts that were uploaded."""


class KeyRefused(StorageError):
    """A key outside the current tenant's folder, or not a plain relative path."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class PendingUpload:
    key: str
    upload_id: str
    started: datetime


@dataclass(frozen=True)
class StoredPart:
    number: int
    etag: str
    size: int
