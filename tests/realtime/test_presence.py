"""One connection's table of the others viewing a conversation."""

from __future__ import annotations

from frontdesk.realtime.presence import EXPIRY_S, ConversationPresence, Viewer


def test_one_person_in_two_tabs_counts_once_and_types_if_either_tab_does() -> None:
    state = ConversationPresence()
    state.heard("tab-1", Viewer(user_id=2, name="Carl", typing=False, seen_at=0))
    state.heard("tab-2", Viewer(user_id=2, name="Carl", typing=True, seen_at=0))
    state.heard("mine", Viewer(user_id=1, name="Anna", typing=False, seen_at=0))

    assert state.viewers(excluding_user=1) == [{"id": 2, "name": "Carl", "typing": True}]


def test_a_viewer_not_heard_of_within_the_expiry_is_dropped() -> None:
    state = ConversationPresence()
    state.heard("dead-server", Viewer(user_id=2, name="Carl", typing=True, seen_at=100))
    state.heard("alive", Viewer(user_id=3, name="Bea", typing=False, seen_at=100 + EXPIRY_S))

    state.expire(now=100 + EXPIRY_S + 1)

    assert state.viewers(excluding_user=1) == [{"id": 3, "name": "Bea", "typing": False}]
