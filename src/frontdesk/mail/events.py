"""Domain events of the mail app. They carry ids and names of changed fields, never credentials."""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class MailboxCreated(DomainEvent):
    mailbox_id: int
    email: str


@dataclass(frozen=True, kw_only=True)
class MailboxUpdated(DomainEvent):
    """Settings changed; `fields` names which (a new password shows as `imap_password`)."""

    mailbox_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MailboxActiveChanged(DomainEvent):
    mailbox_id: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class MailboxChecked(DomainEvent):
    """A connection test ran; `error` is "" when every step passed."""

    mailbox_id: int
    ok: bool
    error: str
