"""Mention handles: how a note names a colleague (`@anna`) and whom a handle means.

A handle is the local part of the person's email address (anna@example.com
is `@anna`): people already know it, it has no spaces, and it does not change
when someone edits their name. Two staff members can share a local part
(anna@example.com, anna@example.org); then that short handle means nobody,
and each of them is mentioned by the whole address (`@anna@example.org`), so a
handle always names exactly one person. Handles ignore case, as addresses are
stored in lower case. Only active staff have handles: customers are never
mentioned.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from frontdesk.accounts.models import STAFF_ROLES, User

# An @ that does not continue a word or an address ("bob@example.com" is not a
# mention of @example.com), then a local part, then an optional domain.
_MENTION = re.compile(r"(?<![\w@.+%-])@([\w.+%-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
# A note naming more people than this is a list, not a mention; the rest are ignored.
MAX_MENTIONS = 20


def handles_in(text: str) -> list[str]:
    """The handles `text` mentions, lower case, each once, in order of first mention."""
    found: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        # "@anna." ends a sentence; the full stop is not part of the handle.
        handle = match.group(1).rstrip(".").lower()
        if handle and handle not in found:
            found[handle] = None
            if len(found) == MAX_MENTIONS:
                break
    return list(found)


def _local_part(email: str) -> str:
    return email.rsplit("@", 1)[0].lower()


def _staff() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=sorted(STAFF_ROLES))


def _sharing_local_parts(local_parts: Iterable[str]) -> Counter[str]:
    """How many active staff have each of these local parts (one query)."""
    wanted = sorted(set(local_parts))
    if not wanted:
        return Counter()
    match = reduce(or_, (Q(email__startswith=f"{part}@") for part in wanted))
    emails = _staff().filter(match).values_list("email", flat=True)
    return Counter(_local_part(email) for email in emails)


def handles_for(users: Sequence[User]) -> dict[int, str]:
    """Each user's handle by id: the local part, or the whole address where it is shared."""
    counts = _sharing_local_parts(_local_part(user.email) for user in users)
    return {
        user.pk: _local_part(user.email)
        if counts[_local_part(user.email)] <= 1
        else user.email.lower()
        for user in users
    }


def handle_for(user: User) -> str:
    return handles_for([user])[user.pk]


def users_for_handles(handles: Sequence[str]) -> list[User]:
    """The active staff these handles name, in the handles' order; unknown or shared ones drop."""
    addresses = [h for h in handles if "@" in h]
    local_parts = [h for h in handles if "@" not in h]
    if not handles:
        return []
    match = Q(email__in=addresses)
    for part in local_parts:
        match |= Q(email__startswith=f"{part}@")
    candidates = list(_staff().filter(match))
    by_email = {user.email.lower(): user for user in candidates}
    by_local: dict[str, list[User]] = {}
    for user in candidates:
        by_local.setdefault(_local_part(user.email), []).append(user)
    named: dict[int, User] = {}
    for handle in handles:
        found: User | None
        if "@" in handle:
            found = by_email.get(handle)
        else:
            same = by_local.get(handle, [])
            found = same[0] if len(same) == 1 else None
        if found is not None:
            named.setdefault(found.pk, found)
    return list(named.values())
