"""Domain events about conversations, published on commit by services.py.

Each carries its audience: the team and the people on the conversation, and
the customer only when the change is something the customer may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ConversationEvent(DomainEvent):
    conversation_id: int
    number: int


@dataclass(frozen=True, kw_only=True)
class ConversationCreated(ConversationEvent):
    channel: str
    customer_id: int
    team_id: int | None
    assignee_id: int | None
    # Who opened it (None: the system or a channel); team notices skip them.
    actor_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MessageAdded(ConversationEvent):
    message_id: int
    kind: str
    public: bool
    author_user_id: int | None
    # Who added it (an agent logging a call writes a customer message) and who holds the
    # conversation, so reactions decide without reading the audit trail.
    actor_id: int | None
    assignee_id: int | None


@dataclass(frozen=True, kw_only=True)
class MessageDeliveryChanged(ConversationEvent):
    """An outbound message was queued, sent or failed; `error` says why it failed."""

    message_id: int
    status: str
    error: str


@dataclass(frozen=True, kw_only=True)
class ConversationAssigned(ConversationEvent):
    assignee_id: int | None
    previous_assignee_id: int | None
    # Who made the change (None: the system); notices skip people assigning themselves.
    actor_id: int | None
    # Made by a rule (routing, SLA escalation, a trigger) rather than by a person, an import
    # or the demo loader: worth telling the new assignee about, though `via` is system.
    automatic: bool = False


@dataclass(frozen=True, kw_only=True)
class ConversationTeamChanged(ConversationEvent):
    team_id: int | None
    previous_team_id: int | None
    actor_id: int | None = None
    automatic: bool = False  # as on ConversationAssigned


@dataclass(frozen=True, kw_only=True)
class ConversationTransferred(ConversationEvent):
    team_id: int
    assignee_id: int | None
    owner_id: int | None
    previous_team_id: int | None
    previous_assignee_id: int | None
    actor_id: int | None
    automatic: bool = False  # as on ConversationAssigned


@dataclass(frozen=True, kw_only=True)
class ConversationStatusChanged(ConversationEvent):
    status: str
    previous_status: str


@dataclass(frozen=True, kw_only=True)
class ConversationPriorityChanged(ConversationEvent):
    priority: int
    previous_priority: int


@dataclass(frozen=True, kw_only=True)
class ConversationTagsChanged(ConversationEvent):
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ConversationFieldsChanged(ConversationEvent):
    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ConversationsMerged(ConversationEvent):
    """`conversation_id`/`number` name the target; the source is closed and points to it."""

    source_id: int
    source_number: int
    moved_message_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class FieldDefinitionChanged(DomainEvent):
    definition_id: int
    key: str
    created: bool


@dataclass(frozen=True, kw_only=True)
class CustomersMerged(DomainEvent):
    """Customer `source_id` was merged into `customer_id`; these conversations moved with it."""

    source_id: int
    customer_id: int
    conversation_ids: tuple[int, ...]
    numbers: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class TagChanged(DomainEvent):
    """A tag was created, renamed or deleted by an admin; `change` says which."""

    tag_id: int
    name: str
    change: str
    previous_name: str = ""
