"""Errors the tenants app raises for people to read. The API turns them into
`{"code": ..., "message": ...}`; pages show the message."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error meant for the person who caused it."""

    status_code = 400

    def __init__(self, message: str, code: str = "invalid", *, suggestion: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.suggestion = suggestion


class SlugUnavailable(DomainError):
    pass


class InvitationInvalid(DomainError):
    status_code = 410


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404
