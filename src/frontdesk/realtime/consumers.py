"""The live websocket at /ws/live/: change notices for everyone, presence for staff.

Staff join the groups of their teams, their own user group, and the group of
those who see everything if they do; a customer joins only their customer
group. What arrives there is forwarded as JSON:

    {"event": "conversation_changed", "number": 42, "kind": "MessageAdded"}
    {"event": "inbox_changed", "kind": "CustomerUpdated"}
    {"event": "notifications_changed", "kind": "NotificationsAdded"}
    {"event": "presence", "number": 42, "viewers": [{"id": 3, "name": "Anna", "typing": false}]}

Staff may send {"action": "view" | "typing" | "leave", "number": N} (typing with
"typing": true/false) and {"action": "heartbeat"}; see presence.py for how
viewers are tracked across server processes.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import forget_team_ids, team_ids_for
from frontdesk.conversations.permissions import sees_everything
from frontdesk.conversations.selectors import access_conversation
from frontdesk.core.errors import NotFound
from frontdesk.realtime import groups
from frontdesk.realtime.presence import ConversationPresence, Viewer

# Close codes in the application range (4000-4999), after the HTTP statuses.
UNAUTHENTICATED = 4401
FORBIDDEN = 4403

# A page shows one conversation; a few tabs' worth per connection is plenty,
# and a bound keeps a misbehaving client from joining every group.
MAX_VIEWING = 10
# Notices already forwarded, by id: enough to catch the same notice arriving
# through a team group and a user group moments apart.
SEEN_NOTICES = 200


def _groups_for(user: User) -> list[str] | None:
    """The groups `user` listens to, or None if the socket is not for them."""
    if user.is_agent_staff or user.is_superuser:
        names = [groups.user(user.pk)]
        names += [groups.team(team_id) for team_id in sorted(team_ids_for(user))]
        if sees_everything(user):
            names.append(groups.EVERYTHING)
        return names
    if user.is_customer:
        customer = getattr(user, "customer", None)
        if customer is None:
            return None
        return [groups.customer(customer.pk)]
    return None


def _reloaded_groups_for(user: User) -> list[str] | None:
    """After the user's role, teams or active flag changed elsewhere."""
    user.refresh_from_db()
    forget_team_ids(user)
    if not user.is_active:
        return None
    return _groups_for(user)


def _may_view(user: User, number: int) -> bool:
    try:
        access_conversation(user, number)
    except NotFound:
        return False
    return True


class LiveConsumer(AsyncJsonWebsocketConsumer):
    user: User
    listening: list[str]
    viewing: dict[int, ConversationPresence]
    seen_notices: OrderedDict[str, None]

    async def connect(self) -> None:
        self.listening = []
        self.viewing = {}
        self.seen_notices = OrderedDict()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self._refuse(UNAUTHENTICATED)
            return
        names = await database_sync_to_async(_groups_for)(user)
        if names is None:
            await self._refuse(FORBIDDEN)
            return
        self.user = user
        # Join before accepting, so a change made once the socket is open reaches it.
        await self._listen_to(names)
        await self.accept()

    async def _refuse(self, code: int) -> None:
        # Accept first: a refusal during the handshake reaches the browser as a
        # bare HTTP 403, while a close code tells the client not to retry.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        for number in list(self.viewing):
            await self._stop_viewing(number)
        await self._listen_to([])

    async def _listen_to(self, names: list[str]) -> None:
        for name in set(self.listening) - set(names):
            await self.channel_layer.group_discard(name, self.channel_name)
        for name in set(names) - set(self.listening):
            await self.channel_layer.group_add(name, self.channel_name)
        self.listening = names

    # --- from the browser -------------------------------------------------------------------

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # answered as a bad request, not by dropping the socket

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not self.listening:
            return
        if not isinstance(content, dict):
            await self.send_json({"event": "error", "error": "bad_request"})
            return
        action = content.get("action")
        if action == "heartbeat":
            await self._heartbeat()
            return
        number = content.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            await self.send_json({"event": "error", "error": "bad_request"})
            return
        if action == "view":
            await self._view(number)
        elif action == "typing":
            await self._typing(number, typing=content.get("typing") is True)
        elif action == "leave":
            await self._stop_viewing(number)
        else:
            await self.send_json({"event": "error", "error": "bad_request"})

    async def _view(self, number: int) -> None:
        if not self.user.is_agent_staff and not self.user.is_superuser:
            return  # customers never take part in presence
        if number not in self.viewing:
            if len(self.viewing) >= MAX_VIEWING:
                await self.send_json({"event": "error", "number": number, "error": "too_many"})
                return
            if not await database_sync_to_async(_may_view)(self.user, number):
                await self.send_json({"event": "error", "number": number, "error": "not_found"})
                return
            self.viewing[number] = ConversationPresence()
            await self.channel_layer.group_add(groups.conversation(number), self.channel_name)
        # Asking for replies also when viewing again: after a reconnect the
        # page sends view anew and must learn who is there.
        await self._announce(number, reply=True)
        await self._send_presence(number)

    async def _typing(self, number: int, *, typing: bool) -> None:
        state = self.viewing.get(number)
        if state is None or state.typing == typing:
            return
        state.typing = typing
        await self._announce(number, reply=False)

    async def _heartbeat(self) -> None:
        now = time.monotonic()
        for number, state in list(self.viewing.items()):
            await self._announce(number, reply=False)
            before = state.viewers(excluding_user=self.user.pk)
            state.expire(now)
            if state.viewers(excluding_user=self.user.pk) != before:
                await self._send_presence(number)

    async def _stop_viewing(self, number: int) -> None:
        if self.viewing.pop(number, None) is None:
            return
        group = groups.conversation(number)
        await self.channel_layer.group_send(
            group, {"type": "presence.leave", "number": number, "channel": self.channel_name}
        )
        await self.channel_layer.group_discard(group, self.channel_name)

    def _announcement(self, number: int, *, reply: bool) -> dict[str, Any]:
        return {
            "type": "presence.announce",
            "number": number,
            "channel": self.channel_name,
            "user_id": self.user.pk,
            "name": self.user.display_name,
            "typing": self.viewing[number].typing,
            "reply": reply,
        }

    async def _announce(self, number: int, *, reply: bool) -> None:
        await self.channel_layer.group_send(
            groups.conversation(number), self._announcement(number, reply=reply)
        )

    async def _send_presence(self, number: int) -> None:
        state = self.viewing.get(number)
        if state is None:
            return
        viewers = state.viewers(excluding_user=self.user.pk)
        await self.send_json({"event": "presence", "number": number, "viewers": viewers})

    # --- from the channel layer -------------------------------------------------------------

    async def conversation_changed(self, message: dict[str, Any]) -> None:
        if self._seen(message["id"]):
            return
        await self.send_json(
            {"event": "conversation_changed", "number": message["number"], "kind": message["kind"]}
        )

    async def inbox_changed(self, message: dict[str, Any]) -> None:
        if self._seen(message["id"]):
            return
        await self.send_json({"event": "inbox_changed", "kind": message["kind"]})

    async def notifications_changed(self, message: dict[str, Any]) -> None:
        # Sent to the user's own group alone, so it cannot arrive twice.
        await self.send_json({"event": "notifications_changed", "kind": message["kind"]})

    async def access_changed(self, message: dict[str, Any]) -> None:
        names = await database_sync_to_async(_reloaded_groups_for)(self.user)
        if names is None:
            await self.close(code=UNAUTHENTICATED if not self.user.is_active else FORBIDDEN)
            return
        await self._listen_to(names)
        # Viewing rights may have gone with a team: keep presence only where still allowed.
        for number in list(self.viewing):
            if not await database_sync_to_async(_may_view)(self.user, number):
                await self._stop_viewing(number)
        await self.send_json({"event": "inbox_changed", "kind": message["kind"]})

    async def presence_announce(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        number = message["number"]
        state = self.viewing.get(number)
        if channel == self.channel_name or state is None:
            return
        if message["reply"]:
            await self.channel_layer.send(channel, self._announcement(number, reply=False))
        before = state.viewers(excluding_user=self.user.pk)
        now = time.monotonic()
        state.heard(
            channel,
            Viewer(
                user_id=message["user_id"],
                name=message["name"],
                typing=message["typing"],
                seen_at=now,
            ),
        )
        state.expire(now)
        if state.viewers(excluding_user=self.user.pk) != before:
            await self._send_presence(number)

    async def presence_leave(self, message: dict[str, Any]) -> None:
        state = self.viewing.get(message["number"])
        if state is None or message["channel"] == self.channel_name:
            return
        before = state.viewers(excluding_user=self.user.pk)
        state.gone(message["channel"])
        if state.viewers(excluding_user=self.user.pk) != before:
            await self._send_presence(message["number"])

    def _seen(self, notice_id: str) -> bool:
        if notice_id in self.seen_notices:
            return True
        self.seen_notices[notice_id] = None
        if len(self.seen_notices) > SEEN_NOTICES:
            self.seen_notices.popitem(last=False)
        return False
