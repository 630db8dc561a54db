"""Who else is viewing a conversation, as one connection knows it.

There is no shared presence store. Each connection viewing conversation N is
in the channel-layer group conv-N and keeps its own table of the others:

- on `view` it announces itself to the group asking for replies, and every
  other viewer answers it directly with its own state;
- on `typing` and on every client heartbeat (about every 20 s) it announces
  itself again, without asking for replies;
- on `leave` and on disconnect it says goodbye to the group;
- an entry not heard of for `EXPIRY_S` is dropped, so the viewers of a server
  process that died vanish within a minute without anyone saying goodbye.

The layer carries this the same way in one process (in memory) and across many
(Redis), so nothing else has to be shared, locked or cleaned up; the messages
are O(viewers²) per heartbeat, and a conversation has a handful of viewers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HEARTBEAT_S = 20
EXPIRY_S = 60


@dataclass
class Viewer:
    user_id: int
    name: str
    typing: bool
    seen_at: float


@dataclass
class ConversationPresence:
    """One connection's view of one conversation: its own typing flag and the others."""

    typing: bool = False
    others: dict[str, Viewer] = field(default_factory=dict)  # by channel name

    def heard(self, channel: str, viewer: Viewer) -> None:
        self.others[channel] = viewer

    def gone(self, channel: str) -> None:
        self.others.pop(channel, None)

    def expire(self, now: float) -> None:
        for channel, viewer in list(self.others.items()):
            if now - viewer.seen_at > EXPIRY_S:
                del self.others[channel]

    def viewers(self, *, excluding_user: int) -> list[dict[str, Any]]:
        """The others by person (two tabs of one person count once), without `excluding_user`."""
        people: dict[int, dict[str, Any]] = {}
        for viewer in self.others.values():
            if viewer.user_id == excluding_user:
                continue
            seen = people.setdefault(
                viewer.user_id, {"id": viewer.user_id, "name": viewer.name, "typing": False}
            )
            seen["typing"] = seen["typing"] or viewer.typing
        return sorted(people.values(), key=lambda person: (person["name"].casefold(), person["id"]))
