"""Errors raised by service functions; every door translates them the same way.

The API turns them into RFC 9457 problem+json, the CLI into one line and a
non-zero exit, the UI into a message on the form field.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A change was refused; nothing was written."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(ServiceError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    title = "Not found"
    slug = "not-found"


class PermissionDenied(ServiceError):
    """The caller can see the object but may not make this change."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class InvalidInput(ServiceError):
    """A value is malformed or out of range."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class Conflict(ServiceError):
    """The change is not allowed in the object's current state."""

    status = 409
    title = "Conflict"
    slug = "conflict"
