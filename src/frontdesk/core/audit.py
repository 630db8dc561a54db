"""Writing the audit trail; called by services inside their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from frontdesk.core.models import Event, Via

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import AbstractBaseUser


def record_event(
    obj: models.Model,
    *,
    action: str,
    actor: AbstractBaseUser | None,
    via: str = Via.SYSTEM,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    object_type: str | None = None,
) -> Event:
    """Add one audit row for `obj`; the caller owns the transaction."""
    if via not in Via.values:
        raise ValueError(f"unknown channel {via!r}")
    label = "system"
    if actor is not None:
        label = str(getattr(actor, "email", "") or actor.get_username())
    if obj.pk is None:
        raise ValueError("audit rows need a saved object")
    return Event.objects.create(
        at=at or timezone.now(),
        actor_id=actor.pk if actor is not None else None,
        actor_label=label,
        via=via,
        action=action,
        object_type=object_type or obj._meta.model_name or "",
        object_id=obj.pk,
        data=data or {},
    )
