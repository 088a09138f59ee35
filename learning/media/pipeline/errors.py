"""Errors the media pipeline raises, written for the person who uploaded the file.

`transient` tells the Celery task whether a retry can help: a file that is not media stays
not media, but a timeout on a busy machine may pass next time.
"""

from __future__ import annotations


class MediaError(Exception):
    """Base of every media processing failure; `code` is stable, `message` is for people.

    Shaped like the apps' DomainError (message, code, status_code) without importing it: the
    pipeline needs no Django and no app (an import-linter contract).
    """

    status_code = 422
    transient = False

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class MediaRejected(MediaError):
    """The uploaded file itself cannot be used: empty, not media, damaged, no streams."""


class MediaLimitExceeded(MediaRejected):
    """The file is larger or longer than the limits in force."""

    status_code = 413


class TranscodeFailed(MediaError):
    """ffmpeg could not convert a file that probed as valid media."""


class ProcessingTimeout(MediaError):
    """ffmpeg ran past its time budget; retrying on a less busy worker may succeed."""

    transient = True
