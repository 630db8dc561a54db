"""Channel-layer group names, shared by the consumer and the reactions.

One group per team, per staff user, per customer, one for staff who see every
conversation, and one per conversation for presence. Names stay within the
layer's limit (ASCII letters, digits, hyphens, under 100 characters).
"""

from __future__ import annotations

from frontdesk.core.events import Audience

EVERYTHING = "staff-all"


def team(team_id: int) -> str:
    return f"team-{team_id}"


def user(user_id: int) -> str:
    return f"user-{user_id}"


def customer(customer_id: int) -> str:
    return f"customer-{customer_id}"


def conversation(number: int) -> str:
    return f"conv-{number}"


def for_audience(audience: Audience) -> list[str]:
    """Every group that must hear of an event with this audience.

    Staff who see everything hear of every event, whatever its audience: a
    conversation without a team names no team, yet admins must see it move.
    """
    names = [EVERYTHING]
    names += [team(t) for t in sorted(audience.team_ids)]
    names += [user(u) for u in sorted(audience.user_ids)]
    if audience.customer_id is not None:
        names.append(customer(audience.customer_id))
    return names
