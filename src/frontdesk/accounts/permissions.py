"""Role checks that services of every app share."""

from __future__ import annotations

from frontdesk.accounts.models import User
from frontdesk.core.errors import PermissionDenied


def require_admin(by: User | None, message: str) -> None:
    """Refuse anyone but an active admin; `by=None` is the trusted system and passes."""
    if by is None:
        return
    if not (by.is_active and by.is_admin):
        raise PermissionDenied(message)
