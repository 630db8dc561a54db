"""Domain events of the accounts app: people, teams, presence and API tokens.

Events carry ids, never secrets: an ApiTokenCreated never holds the plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class UserCreated(DomainEvent):
    user_id: int
    role: str
    team_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class TeamCreated(DomainEvent):
    team_id: int
    lead_id: int | None
    member_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class TeamMemberAdded(DomainEvent):
    team_id: int
    user_id: int


@dataclass(frozen=True, kw_only=True)
class TeamMemberRemoved(DomainEvent):
    team_id: int
    user_id: int


@dataclass(frozen=True, kw_only=True)
class PresenceChanged(DomainEvent):
    user_id: int
    presence: str
    previous: str


@dataclass(frozen=True, kw_only=True)
class ApiTokenCreated(DomainEvent):
    token_id: int
    user_id: int
    prefix: str


@dataclass(frozen=True, kw_only=True)
class ApiTokenRevoked(DomainEvent):
    token_id: int
    user_id: int
    prefix: str


@dataclass(frozen=True, kw_only=True)
class UserUpdated(DomainEvent):
    """Profile, role, teams, skills or preferences changed; `fields` names which."""

    user_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class UserActiveChanged(DomainEvent):
    user_id: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class TeamUpdated(DomainEvent):
    team_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SignInLocked(DomainEvent):
    """Too many failed sign-ins for one email; `user_id` is None when no one has it."""

    failure_id: int
    user_id: int | None
    locked_until: str
