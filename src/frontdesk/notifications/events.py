"""Domain events about people's notification lists, each for its recipients alone."""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import NotificationsChanged


@dataclass(frozen=True, kw_only=True)
class NotificationsAdded(NotificationsChanged):
    """Notifications of `kind` about one conversation were added for the audience's users."""

    kind: str
    conversation_id: int
    number: int


@dataclass(frozen=True, kw_only=True)
class NotificationsRead(NotificationsChanged):
    """The audience's user read one notification (`notification_id`) or all (None)."""

    user_id: int
    notification_id: int | None
