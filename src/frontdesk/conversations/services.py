"""Every change to a conversation goes through one function here.

Each validates, checks permission, writes the change and one audit Event row
in a single transaction, and publishes a domain event on commit. `by=None`
is the trusted system (intake, automations, the demo loader); otherwise `by`
is the acting user and their permission is checked. Views, the API, mail
intake and the CLI all call these; nothing else writes these models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Team, User
from frontdesk.accounts.permissions import require_admin
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.conversations import events, validation
from frontdesk.conversations.models import (
    TRANSITIONS,
    Attachment,
    Channel,
    Conversation,
    ConversationDue,
    ConversationTag,
    CustomFieldDefinition,
    DeliveryStatus,
    FieldKind,
    Message,
    MessageKind,
    Priority,
    SavedView,
    Status,
    Tag,
    attachment_name,
)
from frontdesk.conversations.permissions import (
    can_merge_customers,
    can_reassign,
    can_see,
    can_work,
    sees_everything,
)
from frontdesk.conversations.selectors import SORTS
from frontdesk.conversations.validation import StoredUpload, Upload
from frontdesk.core.audit import record_event
from frontdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Counter, Via
from frontdesk.customers.models import Customer
from frontdesk.customers.selectors import visible_customers
from frontdesk.customers.services import merge_customer_rows

__all__ = [
    "Upload",  # re-exported: every door builds uploads for these services
    "StoredUpload",
    "store_uploads",
    "create_conversation",
    "add_customer_message",
    "add_reply",
    "add_note",
    "assign",
    "set_team",
    "transfer",
    "set_status",
    "set_priority",
    "add_tags",
    "remove_tags",
    "set_tags",
    "set_fields",
    "merge",
    "create_field_definition",
    "update_field_definition",
    "add_system_message",
    "set_delivery_status",
    "claim_delivery",
]

NUMBER_COUNTER = "conversation_number"


@dataclass(frozen=True)
class EmailIds:
    """The Message-ID headers of a message that came (or goes) by email."""

    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


# --- files ------------------------------------------------------------------


def store_uploads(uploads: Sequence[Upload | StoredUpload]) -> list[StoredUpload]:
    """Check the uploads and write them to storage; what is stored already passes through.

    The services call this before their transaction opens. A caller that opens
    a transaction around a service (mail intake with its idempotency row, a form
    that creates the customer too) calls it first, before its own, and hands the
    result to the service: the slow part, megabytes to disk, must not run while
    row locks such as the number counter's are held. Storage is content-addressed,
    so storing early is safe: the same bytes again are not written twice, and a
    change refused afterwards leaves at most an unreferenced file, never a row.
    """
    for upload in uploads:
        if isinstance(upload, Upload):
            validation.check_upload(upload)  # all of them before any is written
    return [
        upload if isinstance(upload, StoredUpload) else _store_upload(upload) for upload in uploads
    ]


def _store_upload(upload: Upload) -> StoredUpload:
    content = upload.content
    digest = hashlib.sha256(content).hexdigest()
    name = attachment_name(digest)
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(content))
    return StoredUpload(
        filename=upload.filename.strip().replace("/", "_").replace("\\", "_")[:255],
        name=name,
        size=len(content),
        sha256=digest,
        content_type=validation.sniff_content_type(content),
        content_id=upload.content_id.strip()[:255],
        inline=upload.inline,
    )


# --- creating ---------------------------------------------------------------


def create_conversation(
    *,
    by: User | None,
    customer: Customer,
    subject: str,
    channel: str,
    text: str,
    html: str = "",
    kind: str = MessageKind.CUSTOMER,
    team: Team | None = None,
    assignee: User | None = None,
    priority: int = Priority.NORMAL,
    tags: Sequence[str] = (),
    fields: Mapping[str, Any] | None = None,
    language: str = "",
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    attachments: Sequence[Upload | StoredUpload] = (),
    email: EmailIds | None = None,
) -> Conversation:
    """Open a conversation with its first message, from the customer or (outbound) an agent."""
    at = at or timezone.now()
    subject = validation.clean_subject(subject)
    validation.check_choice(channel, Channel.values, "channel")
    validation.check_choice(priority, Priority.values, "priority")
    validation.check_choice(kind, (MessageKind.CUSTOMER, MessageKind.REPLY), "kind")
    text, html = validation.clean_body(text, html, attachments)
    files = store_uploads(attachments)
    tag_names = validation.clean_tags(tags)
    field_values = dict(fields or {})

    if by is not None:
        if by.is_customer:
            _check_customer_may_open(
                by, customer=customer, kind=kind, team=team, assignee=assignee, tags=tag_names
            )
        elif by.is_agent_staff:
            team = team if team is not None else _default_team(by)
        else:
            raise PermissionDenied(_("You may not open conversations."))
    if kind == MessageKind.REPLY and by is not None and not by.is_agent_staff:
        raise PermissionDenied(_("Only agents send outbound messages."), field="kind")
    if assignee is not None:
        _check_assignable(assignee, team)

    with transaction.atomic():
        cleaned_fields = (
            validation.clean_field_values(field_values, _field_definitions(), by)
            if field_values
            else {}
        )
        conversation = Conversation.objects.create(
            number=_next_number(),
            subject=subject,
            customer=customer,
            company_id=customer.company_id,
            channel=channel,
            status=Status.OPEN if kind == MessageKind.REPLY else Status.NEW,
            priority=priority,
            team=team,
            assignee=assignee,
            owner=assignee or _creator_following(by, team),
            custom_fields={k: v for k, v in cleaned_fields.items() if v is not None},
            language=language[:10],
            created_at=at,
            updated_at=at,
            last_activity_at=at,
            last_customer_activity_at=at if kind == MessageKind.CUSTOMER else None,
            last_agent_activity_at=at if kind == MessageKind.REPLY else None,
        )
        message = _create_message(
            conversation,
            kind=kind,
            channel=channel,
            by=by,
            text=text,
            html=html,
            at=at,
            files=files,
            email=email,
        )
        if tag_names:
            _link_tags(conversation, tag_names)
        record_event(
            conversation,
            action="conversation.created",
            actor=by,
            via=via,
            at=at,
            data={"channel": channel, "message_id": message.pk, "team_id": conversation.team_id},
        )
        audience = _audience(conversation, public=True)
        publish(
            events.ConversationCreated(
                via=via,
                audience=audience,
                conversation_id=conversation.pk,
                number=conversation.number,
                channel=channel,
                customer_id=customer.pk,
                team_id=conversation.team_id,
                assignee_id=conversation.assignee_id,
                actor_id=by.pk if by is not None else None,
            )
        )
        _publish_message(conversation, message, by=by, via=via)
    return conversation


# --- messages ---------------------------------------------------------------


def add_customer_message(
    conversation: Conversation,
    *,
    by: User | None,
    text: str,
    html: str = "",
    channel: str | None = None,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    attachments: Sequence[Upload | StoredUpload] = (),
    email: EmailIds | None = None,
    author: Customer | None = None,
) -> Message:
    """Add what the customer wrote; a waiting or solved conversation opens again.

    `author` is who wrote it when that is not the conversation's customer (a
    colleague in copy answering in the thread); by default, the customer.
    """
    at = at or timezone.now()
    channel = channel or conversation.channel
    validation.check_choice(channel, Channel.values, "channel")
    text, html = validation.clean_body(text, html, attachments)
    files = store_uploads(attachments)
    with transaction.atomic():
        conv = _lock_following_merges(conversation)
        if by is not None and not (can_see(by, conv) and (by.is_customer or can_work(by, conv))):
            raise _invisible_or_forbidden(by, conv)
        if conv.status == Status.CLOSED:
            raise Conflict(
                _("Conversation #%(number)s is closed; a new message starts a new conversation.")
                % {"number": conv.number}
            )
        message = _create_message(
            conv,
            kind=MessageKind.CUSTOMER,
            channel=channel,
            by=by,
            text=text,
            html=html,
            at=at,
            files=files,
            email=email,
            author=author,
        )
        previous = conv.status
        if conv.status in (Status.PENDING, Status.ON_HOLD, Status.SOLVED):
            conv.status = Status.OPEN
            conv.solved_at = None
        conv.last_customer_activity_at = at
        _touch(conv, at)
        conv.save(
            update_fields=[
                "status", "solved_at", "last_customer_activity_at", "last_activity_at",
                "updated_at",
            ]
        )  # fmt: skip
        record_event(
            conv,
            action="message.added",
            actor=by,
            via=via,
            at=at,
            data={"message_id": message.pk, "kind": message.kind},
        )
        _publish_message(conv, message, by=by, via=via)
        if previous != conv.status:
            _record_status(conv, previous, by=by, via=via, at=at, reason="customer_message")
    return message


def add_reply(
    conversation: Conversation,
    *,
    by: User,
    text: str,
    html: str = "",
    status: str | None = None,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    attachments: Sequence[Upload | StoredUpload] = (),
) -> Message:
    """An agent answers the customer; the first answer sets first_response_at.

    A reply to an unassigned conversation assigns it to the replying agent,
    as people expect: whoever answered is the one the customer will write to.
    """
    at = at or timezone.now()
    text, html = validation.clean_body(text, html, attachments)
    files = store_uploads(attachments)
    if status is not None:
        validation.check_choice(status, Status.values, "status")
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        _check_not_merged(conv)
        if conv.status == Status.CLOSED:
            raise Conflict(_("Conversation #%(number)s is closed.") % {"number": conv.number})
        message = _create_message(
            conv,
            kind=MessageKind.REPLY,
            channel=conv.channel,
            by=by,
            text=text,
            html=html,
            at=at,
            files=files,
        )
        previous_status = conv.status
        previous_assignee = conv.assignee_id
        if conv.status == Status.NEW:
            conv.status = Status.OPEN
        if conv.first_response_at is None:
            conv.first_response_at = at
        if conv.assignee_id is None:
            conv.assignee = by
            if conv.owner_id is None:
                conv.owner = by
        conv.last_agent_activity_at = at
        _touch(conv, at)
        if status is not None and status != conv.status:
            _apply_status(conv, status, at=at, by=by)
        conv.save(
            update_fields=[
                "status", "first_response_at", "assignee", "owner", "last_agent_activity_at",
                "last_activity_at", "updated_at", "solved_at", "closed_at",
            ]
        )  # fmt: skip
        record_event(
            conv,
            action="message.added",
            actor=by,
            via=via,
            at=at,
            data={"message_id": message.pk, "kind": message.kind},
        )
        _publish_message(conv, message, by=by, via=via)
        if previous_assignee != conv.assignee_id:
            _record_assignment(conv, previous_assignee, by=by, via=via, at=at)
        if previous_status != conv.status:
            _record_status(conv, previous_status, by=by, via=via, at=at, reason="reply")
    return message


def add_note(
    conversation: Conversation,
    *,
    by: User | None,
    text: str,
    html: str = "",
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    attachments: Sequence[Upload | StoredUpload] = (),
    cause: Mapping[str, Any] | None = None,
) -> Message:
    """An internal note: staff see it, the customer never does. `by=None`: an automation's."""
    at = at or timezone.now()
    text, html = validation.clean_body(text, html, attachments)
    files = store_uploads(attachments)
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        message = _add_note_locked(conv, by=by, text=text, html=html, via=via, at=at,
                                   files=files, cause=cause)  # fmt: skip
    return message


# --- assignment and teams ---------------------------------------------------


def assign(
    conversation: Conversation,
    *,
    by: User | None,
    assignee: User | None,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    """Give the conversation to `assignee` (None: unassign).

    Agents take unassigned conversations, hand on their own and give up
    theirs; taking one away from a colleague needs a supervisor or admin.
    `cause`, on the system's changes, says what made it (a routing rule, an
    assignment mode, a policy) and goes into the audit row as its "cause".
    """
    at = at or timezone.now()
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        new_id = assignee.pk if assignee is not None else None
        if new_id == conv.assignee_id:
            return conv
        if assignee is not None:
            _check_assignable(assignee, conv.team)
        _check_may_take_over(by, conv, field="assignee")
        previous = conv.assignee_id
        conv.assignee = assignee
        if conv.owner_id is None and assignee is not None:
            conv.owner = assignee
        conv.updated_at = at
        conv.save(update_fields=["assignee", "owner", "updated_at"])
        _record_assignment(conv, previous, by=by, via=via, at=at, cause=cause)
    return conv


def set_team(
    conversation: Conversation,
    *,
    by: User | None,
    team: Team | None,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    """Move the conversation to another team; an assignee outside it is released."""
    at = at or timezone.now()
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        team_id = team.pk if team is not None else None
        if team_id == conv.team_id:
            return conv
        if team is None and by is not None and not sees_everything(by):
            raise InvalidInput(_("Choose a team."), field="team")
        previous_team = conv.team_id
        previous_assignee = conv.assignee_id
        conv.team = team
        if conv.assignee is not None and not _works_in(conv.assignee, team):
            conv.assignee = None
        conv.updated_at = at
        conv.save(update_fields=["team", "assignee", "updated_at"])
        record_event(
            conv, action="conversation.team_changed", actor=by, via=via, at=at,
            data=_with_cause({"team_id": team_id, "previous_team_id": previous_team}, cause),
        )  # fmt: skip
        publish(
            events.ConversationTeamChanged(
                via=via,
                audience=_audience(conv, public=False, extra_team_ids=(previous_team,)),
                conversation_id=conv.pk,
                number=conv.number,
                team_id=team_id,
                previous_team_id=previous_team,
                actor_id=by.pk if by is not None else None,
                automatic=bool(cause),
            )
        )
        if previous_assignee != conv.assignee_id:
            _record_assignment(conv, previous_assignee, by=by, via=via, at=at, cause=cause)
    return conv


def transfer(
    conversation: Conversation,
    *,
    by: User | None,
    team: Team,
    assignee: User | None = None,
    note: str = "",
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    """Hand the conversation to another team (and person); the owner keeps following it.

    Without an owner yet, the agent who held it becomes the owner, so the
    person the customer dealt with is not lost in the handover. `cause`: as on `assign`.
    """
    at = at or timezone.now()
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        _check_not_merged(conv)
        if assignee is not None:
            _check_assignable(assignee, team)
        _check_may_take_over(by, conv, field="team")
        previous_team = conv.team_id
        previous_assignee = conv.assignee_id
        if conv.owner_id is None:
            conv.owner_id = previous_assignee or (by.pk if by is not None else None)
        conv.team = team
        conv.assignee = assignee
        conv.updated_at = at
        conv.save(update_fields=["team", "assignee", "owner", "updated_at"])
        if note.strip():
            _add_note_locked(conv, by=by, text=note.strip(), html="", via=via, at=at,
                             files=(), cause=cause)  # fmt: skip
        record_event(
            conv, action="conversation.transferred", actor=by, via=via, at=at,
            data=_with_cause({
                "team_id": team.pk, "assignee_id": conv.assignee_id,
                "previous_team_id": previous_team, "previous_assignee_id": previous_assignee,
                "owner_id": conv.owner_id,
            }, cause),
        )  # fmt: skip
        publish(
            events.ConversationTransferred(
                via=via,
                audience=_audience(
                    conv,
                    public=False,
                    extra_team_ids=(previous_team,),
                    extra_user_ids=(previous_assignee,),
                ),  # fmt: skip
                conversation_id=conv.pk,
                number=conv.number,
                team_id=team.pk,
                assignee_id=conv.assignee_id,
                owner_id=conv.owner_id,
                previous_team_id=previous_team,
                previous_assignee_id=previous_assignee,
                actor_id=by.pk if by is not None else None,
                automatic=bool(cause),
            )
        )
    return conv


# --- status, priority, tags, fields -----------------------------------------


def set_status(
    conversation: Conversation,
    *,
    by: User | None,
    status: str,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    """Move along the allowed transitions; solving needs the required fields filled.

    A customer may mark their own conversation solved, nothing else.
    """
    at = at or timezone.now()
    validation.check_choice(status, Status.values, "status")
    with transaction.atomic():
        conv = _lock(conversation)
        if by is not None and by.is_customer:
            if not can_see(by, conv):
                raise NotFound(_("No such conversation."))
            if status != Status.SOLVED:
                raise PermissionDenied(_("Customers may only mark a request solved."),
                                       field="status")  # fmt: skip
        else:
            _require_work(by, conv)
        if status == conv.status:
            return conv
        previous = conv.status
        _apply_status(conv, status, at=at, by=by)
        conv.updated_at = at
        conv.save(update_fields=["status", "solved_at", "closed_at", "updated_at"])
        _record_status(conv, previous, by=by, via=via, at=at, reason="", cause=cause)
    return conv


def set_priority(
    conversation: Conversation,
    *,
    by: User | None,
    priority: int,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    at = at or timezone.now()
    validation.check_choice(priority, Priority.values, "priority")
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        if priority == conv.priority:
            return conv
        previous = conv.priority
        conv.priority = priority
        conv.updated_at = at
        conv.save(update_fields=["priority", "updated_at"])
        record_event(
            conv, action="conversation.priority_changed", actor=by, via=via, at=at,
            data=_with_cause({"priority": priority, "previous_priority": previous}, cause),
        )  # fmt: skip
        publish(
            events.ConversationPriorityChanged(
                via=via,
                audience=_audience(conv, public=False),
                conversation_id=conv.pk,
                number=conv.number,
                priority=priority,
                previous_priority=previous,
            )
        )
    return conv


def add_tags(
    conversation: Conversation,
    *,
    by: User | None,
    tags: Sequence[str],
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    return _change_tags(conversation, by=by, add=tags, remove=(), via=via, at=at, cause=cause)


def remove_tags(
    conversation: Conversation,
    *,
    by: User | None,
    tags: Sequence[str],
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    return _change_tags(conversation, by=by, add=(), remove=tags, via=via, at=at, cause=cause)


def set_tags(
    conversation: Conversation,
    *,
    by: User | None,
    tags: Sequence[str],
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> Conversation:
    """Make `tags` the whole set: one audited change with what was added and removed."""
    return _change_tags(conversation, by=by, add=tags, remove=(), replace=True, via=via, at=at)


def set_fields(
    conversation: Conversation,
    *,
    by: User | None,
    values: Mapping[str, Any],
    via: str = Via.SYSTEM,
    at: datetime | None = None,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    """Set custom field values by key; None clears one. All are checked before any is written."""
    at = at or timezone.now()
    with transaction.atomic():
        conv = _lock(conversation)
        if by is not None and by.is_customer:
            if not can_see(by, conv):
                raise NotFound(_("No such conversation."))
        else:
            _require_work(by, conv)
        cleaned = validation.clean_field_values(values, _field_definitions(), by)
        merged = dict(conv.custom_fields)
        changed: list[str] = []
        for key, value in cleaned.items():
            if value is None:
                if key in merged:
                    del merged[key]
                    changed.append(key)
            elif merged.get(key) != value:
                merged[key] = value
                changed.append(key)
        if not changed:
            return conv
        conv.custom_fields = merged
        conv.updated_at = at
        conv.save(update_fields=["custom_fields", "updated_at"])
        record_event(
            conv, action="conversation.fields_changed", actor=by, via=via, at=at,
            data=_with_cause({"values": {k: merged.get(k) for k in changed}}, cause),
        )  # fmt: skip
        publish(
            events.ConversationFieldsChanged(
                via=via,
                audience=_audience(conv, public=False),
                conversation_id=conv.pk,
                number=conv.number,
                keys=tuple(sorted(changed)),
            )
        )
    return conv


# --- merging ----------------------------------------------------------------


def merge(
    conversation: Conversation,
    *,
    by: User | None,
    into: Conversation,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> Conversation:
    """Merge `conversation` into `into`: its messages move, it closes and points there.

    Nothing is deleted; each moved message remembers where it came from.
    """
    at = at or timezone.now()
    if conversation.pk == into.pk:
        raise InvalidInput(_("A conversation cannot be merged into itself."), field="into")
    with transaction.atomic():
        # Lock both rows in id order so two opposite merges cannot deadlock.
        first, second = sorted((conversation.pk, into.pk))
        locked = {c.pk: c for c in Conversation.objects.select_for_update().filter(
            pk__in=(first, second)).order_by("pk")}  # fmt: skip
        if len(locked) != 2:
            raise NotFound(_("No such conversation."))
        source, target = locked[conversation.pk], locked[into.pk]
        _require_work(by, source)
        if by is not None and not can_see(by, target):
            raise NotFound(_("No such conversation."), field="into")
        _require_work(by, target)
        if source.merged_into_id is not None:
            raise Conflict(_("Conversation #%(number)s is already merged.")
                           % {"number": source.number})  # fmt: skip
        if target.merged_into_id is not None:
            raise Conflict(
                _("Conversation #%(number)s is merged; merge into the one it points to.")
                % {"number": target.number},
                field="into",
            )
        moved_ids = tuple(source.messages.values_list("pk", flat=True))
        Message.objects.filter(pk__in=moved_ids).update(conversation=target, moved_from=source)
        source_tags = list(source.tags.values_list("name", flat=True))
        if source_tags:
            _link_tags(target, source_tags)
        previous_status = source.status
        source.merged_into = target
        source.status = Status.CLOSED
        source.closed_at = at
        source.updated_at = at
        source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
        _create_message(
            source, kind=MessageKind.SYSTEM, channel=source.channel, by=by, at=at,
            text=_("Merged into #%(number)s.") % {"number": target.number}, html="",
            files=(),
        )  # fmt: skip
        _create_message(
            target, kind=MessageKind.SYSTEM, channel=target.channel, by=by, at=at,
            text=_("#%(number)s was merged into this conversation.") % {"number": source.number},
            html="", files=(),
        )  # fmt: skip
        latest = target.messages.exclude(kind=MessageKind.SYSTEM).aggregate(last=Max("created_at"))[
            "last"
        ]
        target.last_activity_at = max(filter(None, (latest, target.last_activity_at)))
        target.updated_at = at
        target.save(update_fields=["last_activity_at", "updated_at"])
        record_event(
            source, action="conversation.merged", actor=by, via=via, at=at,
            data={"into": target.number, "moved_message_ids": list(moved_ids),
                  "previous_status": previous_status},
        )  # fmt: skip
        record_event(
            target, action="conversation.merge_received", actor=by, via=via, at=at,
            data={"from": source.number, "moved_message_ids": list(moved_ids)},
        )  # fmt: skip
        publish(
            events.ConversationsMerged(
                via=via,
                audience=_audience(
                    target,
                    public=False,
                    extra_team_ids=(source.team_id,),
                    extra_user_ids=(source.assignee_id, source.owner_id),
                ),  # fmt: skip
                conversation_id=target.pk,
                number=target.number,
                source_id=source.pk,
                source_number=source.number,
                moved_message_ids=moved_ids,
            )
        )
    return target


# --- custom field definitions -----------------------------------------------


def create_field_definition(
    *,
    by: User | None,
    key: str,
    label: str,
    kind: str,
    choices: Sequence[str] = (),
    required_to_solve: bool = False,
    visible_to_customers: bool = False,
    position: int = 0,
    via: str = Via.SYSTEM,
) -> CustomFieldDefinition:
    require_admin(by, _("Only admins may change field definitions."))
    if not validation.FIELD_KEY.match(key):
        raise InvalidInput(
            _("Use lower-case letters, digits and underscores, starting with a letter."),
            field="key",
        )
    validation.check_choice(kind, FieldKind.values, "kind")
    clean_choices = validation.clean_choices(kind, choices)
    label = label.strip()
    if not label:
        raise InvalidInput(_("A label is required."), field="label")
    with transaction.atomic():
        if CustomFieldDefinition.objects.filter(key=key).exists():
            raise Conflict(_("A field with this key exists."), field="key")
        definition = CustomFieldDefinition.objects.create(
            key=key,
            label=label[:200],
            kind=kind,
            choices=clean_choices,
            required_to_solve=required_to_solve,
            visible_to_customers=visible_to_customers,
            position=position,
        )
        record_event(definition, action="field_definition.created", actor=by, via=via,
                     data={"key": key, "kind": kind})  # fmt: skip
        publish(
            events.FieldDefinitionChanged(
                via=via, audience=Audience(), definition_id=definition.pk, key=key, created=True
            )
        )
    return definition


_DEFINITION_CHANGES = frozenset(
    {"label", "choices", "required_to_solve", "visible_to_customers", "active", "position"}
)


def update_field_definition(
    definition: CustomFieldDefinition,
    *,
    by: User | None,
    via: str = Via.SYSTEM,
    **changes: Any,
) -> CustomFieldDefinition:
    """Change a definition; its key and kind are fixed so stored values stay meaningful."""
    require_admin(by, _("Only admins may change field definitions."))
    unknown = set(changes) - _DEFINITION_CHANGES
    if unknown:
        raise InvalidInput(_("This cannot be changed."), field=sorted(unknown)[0])
    with transaction.atomic():
        locked = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
        if "label" in changes:
            label = str(changes["label"]).strip()
            if not label:
                raise InvalidInput(_("A label is required."), field="label")
            locked.label = label[:200]
        if "choices" in changes:
            locked.choices = validation.clean_choices(locked.kind, changes["choices"])
        for flag in ("required_to_solve", "visible_to_customers", "active"):
            if flag in changes:
                setattr(locked, flag, bool(changes[flag]))
        if "position" in changes:
            locked.position = int(changes["position"])
        locked.save()
        record_event(locked, action="field_definition.updated", actor=by, via=via,
                     data={k: changes[k] for k in sorted(changes)})  # fmt: skip
        publish(
            events.FieldDefinitionChanged(
                via=via, audience=Audience(), definition_id=locked.pk, key=locked.key, created=False
            )
        )
    return locked


# --- internals --------------------------------------------------------------


def _next_number() -> int:
    # One statement: the upsert takes the row lock, so concurrent creators queue
    # here for the rest of their transaction and never share a number. It also
    # creates the row when it is missing (a flushed database), where a separate
    # INSERT would race. SQLite (3.35+) and PostgreSQL both upsert and RETURN.
    table = Counter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, value) VALUES (%s, 1) "  # noqa: S608
            f"ON CONFLICT (name) DO UPDATE SET value = {table}.value + 1 RETURNING value",
            [NUMBER_COUNTER],
        )
        row = cursor.fetchone()
    return int(row[0])


def _lock(conversation: Conversation) -> Conversation:
    try:
        return Conversation.objects.select_for_update().get(pk=conversation.pk)
    except Conversation.DoesNotExist:
        raise NotFound(_("No such conversation.")) from None


def _lock_following_merges(conversation: Conversation) -> Conversation:
    """Lock the conversation, or the one it was merged into (a reply to an old thread)."""
    conv = _lock(conversation)
    seen = {conv.pk}
    while conv.merged_into_id is not None and conv.merged_into_id not in seen:
        seen.add(conv.merged_into_id)
        conv = Conversation.objects.select_for_update().get(pk=conv.merged_into_id)
    return conv


def _invisible_or_forbidden(by: User, conv: Conversation) -> Exception:
    if not can_see(by, conv):
        return NotFound(_("No such conversation."))
    return PermissionDenied(_("You may not change this conversation."))


def _require_work(by: User | None, conv: Conversation) -> None:
    if by is not None and not can_work(by, conv):
        raise _invisible_or_forbidden(by, conv)


def _check_may_take_over(by: User | None, conv: Conversation, *, field: str) -> None:
    """Moving a conversation away from someone else's hands needs a supervisor or admin."""
    if (
        by is not None
        and conv.assignee_id is not None
        and conv.assignee_id != by.pk
        and not can_reassign(by, conv)
    ):
        raise PermissionDenied(
            _("Only a supervisor can take a conversation away from its assignee."), field=field
        )


def _check_not_merged(conv: Conversation) -> None:
    if conv.merged_into_id is not None:
        raise Conflict(_("Conversation #%(number)s was merged into another.")
                       % {"number": conv.number})  # fmt: skip


def _create_message(
    conv: Conversation,
    *,
    kind: str,
    channel: str,
    by: User | None,
    text: str,
    html: str,
    at: datetime,
    files: Sequence[StoredUpload],
    email: EmailIds | None = None,
    author: Customer | None = None,
) -> Message:
    from_customer = kind == MessageKind.CUSTOMER
    email = email or EmailIds()
    author_id = (author.pk if author is not None else conv.customer_id) if from_customer else None
    message = Message.objects.create(
        conversation=conv,
        kind=kind,
        channel=channel,
        author_user=by if by is not None and not (from_customer and by.is_agent_staff) else None,
        author_customer_id=author_id,
        text=text,
        html=html,
        email_message_id=email.message_id[:998],
        email_in_reply_to=email.in_reply_to[:998],
        email_references=" ".join(email.references),
        created_at=at,
    )
    Attachment.objects.bulk_create(
        [
            Attachment(
                message=message,
                file=f.name,
                filename=f.filename,
                size=f.size,
                sha256=f.sha256,
                content_type=f.content_type,
                content_id=f.content_id,
                inline=f.inline,
                created_at=at,
            )
            for f in files
        ]
    )
    return message


def _add_note_locked(
    conv: Conversation,
    *,
    by: User | None,
    text: str,
    html: str,
    via: str,
    at: datetime,
    files: Sequence[StoredUpload],
    cause: Mapping[str, Any] | None = None,
) -> Message:
    message = _create_message(
        conv, kind=MessageKind.NOTE, channel=conv.channel, by=by, text=text, html=html, at=at,
        files=files,
    )  # fmt: skip
    _touch(conv, at)
    conv.save(update_fields=["last_activity_at", "updated_at"])
    record_event(conv, action="message.added", actor=by, via=via, at=at,
                 data=_with_cause({"message_id": message.pk, "kind": message.kind},
                                  cause))  # fmt: skip
    _publish_message(conv, message, by=by, via=via)
    return message


def _touch(conv: Conversation, at: datetime) -> None:
    conv.last_activity_at = max(conv.last_activity_at, at)
    conv.updated_at = max(conv.updated_at, at)


def _apply_status(conv: Conversation, status: str, *, at: datetime, by: User | None) -> None:
    if status not in TRANSITIONS[conv.status]:
        raise Conflict(
            _("A conversation cannot go from %(old)s to %(new)s.")
            % {"old": Status(conv.status).label, "new": Status(status).label},
            field="status",
        )
    if status == Status.SOLVED:
        # Required fields are the agents' bookkeeping: a customer saying their
        # problem is solved cannot fill fields they are not shown.
        if by is None or not by.is_customer:
            _check_required_fields(conv)
        conv.solved_at = at
    elif status == Status.CLOSED:
        conv.closed_at = at
    else:
        conv.solved_at = None
    conv.status = status


def _check_required_fields(conv: Conversation) -> None:
    for definition in _field_definitions().values():
        if not definition.required_to_solve or not definition.active:
            continue
        value = conv.custom_fields.get(definition.key)
        if value is None or value == "" or (definition.kind == FieldKind.CHECKBOX and not value):
            raise InvalidInput(
                _("%(label)s must be filled in before solving.") % {"label": definition.label},
                field=f"custom_fields.{definition.key}",
            )


def _record_status(
    conv: Conversation,
    previous: str,
    *,
    by: User | None,
    via: str,
    at: datetime,
    reason: str,
    cause: Mapping[str, Any] | None = None,
) -> None:
    record_event(
        conv, action="conversation.status_changed", actor=by, via=via, at=at,
        data=_with_cause({"status": conv.status, "previous_status": previous, "reason": reason},
                         cause),
    )  # fmt: skip
    publish(
        events.ConversationStatusChanged(
            via=via,
            audience=_audience(conv, public=True),
            conversation_id=conv.pk,
            number=conv.number,
            status=conv.status,
            previous_status=previous,
        )
    )


def _record_assignment(
    conv: Conversation,
    previous: int | None,
    *,
    by: User | None,
    via: str,
    at: datetime,
    cause: Mapping[str, Any] | None = None,
) -> None:
    record_event(
        conv, action="conversation.assigned", actor=by, via=via, at=at,
        data=_with_cause({"assignee_id": conv.assignee_id, "previous_assignee_id": previous},
                         cause),
    )  # fmt: skip
    publish(
        events.ConversationAssigned(
            via=via,
            audience=_audience(conv, public=False, extra_user_ids=(previous,)),
            conversation_id=conv.pk,
            number=conv.number,
            assignee_id=conv.assignee_id,
            previous_assignee_id=previous,
            actor_id=by.pk if by is not None else None,
            automatic=bool(cause),
        )
    )


def _with_cause(data: dict[str, Any], cause: Mapping[str, Any] | None) -> dict[str, Any]:
    """An audit row's data, with what made the system change it (rule, policy) when given."""
    if cause:
        data["cause"] = dict(cause)
    return data


def _publish_message(conv: Conversation, message: Message, *, by: User | None, via: str) -> None:
    publish(
        events.MessageAdded(
            via=via,
            audience=_audience(conv, public=message.is_public),
            conversation_id=conv.pk,
            number=conv.number,
            message_id=message.pk,
            kind=message.kind,
            public=message.is_public,
            author_user_id=message.author_user_id,
            actor_id=by.pk if by is not None else None,
            assignee_id=conv.assignee_id,
        )
    )


def _audience(
    conv: Conversation,
    *,
    public: bool,
    extra_team_ids: Sequence[int | None] = (),
    extra_user_ids: Sequence[int | None] = (),
) -> Audience:
    users = {conv.assignee_id, conv.owner_id, *extra_user_ids}
    teams = {conv.team_id, *extra_team_ids}
    return Audience(
        user_ids=frozenset(u for u in users if u is not None),
        team_ids=frozenset(t for t in teams if t is not None),
        customer_id=conv.customer_id if public else None,
    )


def _works_in(user: User, team: Team | None) -> bool:
    if sees_everything(user):
        return True
    return team is not None and team.pk in team_ids_for(user)


def _check_assignable(assignee: User, team: Team | None) -> None:
    if not assignee.is_active or not assignee.is_agent_staff:
        raise InvalidInput(_("%(name)s cannot be assigned conversations.")
                           % {"name": assignee}, field="assignee")  # fmt: skip
    if team is not None and not _works_in(assignee, team):
        raise InvalidInput(
            _("%(name)s is not a member of %(team)s.") % {"name": assignee, "team": team},
            field="assignee",
        )


def _creator_following(by: User | None, team: Team | None) -> User | None:
    """Staff filing a conversation into a team not theirs keep following it as owner."""
    if by is None or not by.is_agent_staff or _works_in(by, team):
        return None
    return by


def _default_team(by: User) -> Team | None:
    if sees_everything(by):
        return None
    team_ids = sorted(team_ids_for(by))
    if not team_ids:
        raise InvalidInput(_("Choose a team."), field="team")
    return Team.objects.get(pk=team_ids[0])


def _check_customer_may_open(
    by: User,
    *,
    customer: Customer,
    kind: str,
    team: Team | None,
    assignee: User | None,
    tags: Sequence[str],
) -> None:
    own = getattr(by, "customer", None)
    if own is None or own.pk != customer.pk:
        raise PermissionDenied(_("Customers open conversations only for themselves."),
                               field="customer")  # fmt: skip
    if kind != MessageKind.CUSTOMER:
        raise PermissionDenied(_("Customers send customer messages."), field="kind")
    for field, value in (("team", team), ("assignee", assignee), ("tags", tags)):
        if value:
            raise PermissionDenied(_("Customers cannot set this."), field=field)


def _link_tags(conv: Conversation, names: Sequence[str]) -> list[str]:
    """Attach tags by name, creating them; returns the names newly attached."""
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in existing:
            tag, _created = Tag.objects.get_or_create(name=name)
            existing[name] = tag
    linked = set(
        ConversationTag.objects.filter(conversation=conv, tag__name__in=names).values_list(
            "tag__name", flat=True
        )
    )
    added = [n for n in names if n not in linked]
    ConversationTag.objects.bulk_create(
        [ConversationTag(conversation=conv, tag=existing[n]) for n in added]
    )
    return added


def _change_tags(
    conversation: Conversation,
    *,
    by: User | None,
    add: Sequence[str],
    remove: Sequence[str],
    via: str,
    at: datetime | None,
    replace: bool = False,
    cause: Mapping[str, Any] | None = None,
) -> Conversation:
    at = at or timezone.now()
    to_add = validation.clean_tags(add)
    to_remove = validation.clean_tags(remove)
    with transaction.atomic():
        conv = _lock(conversation)
        _require_work(by, conv)
        if replace:
            # Read under the lock, so a concurrent change cannot slip between.
            current = conv.tags.values_list("name", flat=True)
            to_remove = [name for name in current if name not in to_add]
        added = _link_tags(conv, to_add) if to_add else []
        removed: list[str] = []
        if to_remove:
            links = ConversationTag.objects.filter(conversation=conv, tag__name__in=to_remove)
            removed = sorted(links.values_list("tag__name", flat=True))
            links.delete()
        if not added and not removed:
            return conv
        conv.updated_at = at
        conv.save(update_fields=["updated_at"])
        record_event(conv, action="conversation.tags_changed", actor=by, via=via, at=at,
                     data=_with_cause({"added": added, "removed": removed}, cause))  # fmt: skip
        publish(
            events.ConversationTagsChanged(
                via=via,
                audience=_audience(conv, public=False),
                conversation_id=conv.pk,
                number=conv.number,
                added=tuple(added),
                removed=tuple(removed),
            )
        )
    return conv


def _field_definitions() -> dict[str, CustomFieldDefinition]:
    return {d.key: d for d in CustomFieldDefinition.objects.all()}


# --- merging customers ------------------------------------------------------


def merge_customers(
    source: Customer,
    *,
    into: Customer,
    by: User | None,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> Customer:
    """Merge the duplicate `source` into `into`: conversations, identities and login move.

    `source` is kept and points to `into`, so old links still lead somewhere;
    with its identities gone, intake finds `into` for its emails and phones.
    Supervisors and admins only: a merge rewrites whose conversations are whose
    across every team, which is more than an agent's own work.
    """
    at = at or timezone.now()
    if by is not None:
        visible = set(
            visible_customers(by).filter(pk__in=(source.pk, into.pk)).values_list("pk", flat=True)
        )
        if source.pk not in visible:
            raise NotFound(_("No such customer."))
        if into.pk not in visible:
            raise NotFound(_("No such customer."), field="into")
        if not can_merge_customers(by):
            raise PermissionDenied(_("Only supervisors and admins merge customers."))
    with transaction.atomic():
        rows = merge_customer_rows(source, into=into)
        target = rows.target
        moving = list(
            Conversation.objects.select_for_update()
            .filter(customer_id=source.pk)
            .order_by("pk")
            .values_list("pk", "number", "company_id", "team_id", "assignee_id", "owner_id")
        )
        conversation_ids = tuple(row[0] for row in moving)
        Conversation.objects.filter(pk__in=conversation_ids).update(
            customer=target, company_id=target.company_id, updated_at=at
        )
        # The same person wrote those messages; the portal tells "you" from "them" by this.
        authored = Message.objects.filter(author_customer_id=source.pk).update(
            author_customer=target
        )
        for pk, number, company_id, _team, _assignee, _owner in moving:
            record_event(
                Conversation(pk=pk),
                action="conversation.customer_changed",
                actor=by,
                via=via,
                at=at,
                data={
                    "number": number,
                    "from": source.pk,
                    "to": target.pk,
                    "company": {"from": company_id, "to": target.company_id},
                },
            )
        summary = {
            "identity_ids": list(rows.identity_ids),
            "conversation_numbers": [row[1] for row in moving],
            "moved_login_id": rows.moved_login_id,
            "repointed_customer_ids": list(rows.repointed_ids),
            "authored_messages": authored,
        }
        record_event(
            rows.source, action="customer.merged", actor=by, via=via, at=at,
            data={"into": target.pk, **summary},
        )  # fmt: skip
        record_event(
            target, action="customer.merge_received", actor=by, via=via, at=at,
            data={"from": source.pk, **summary},
        )  # fmt: skip
        # Customer records are staff-wide; the people on the moved conversations are
        # named too, as teamless ones are otherwise seen only by admins.
        people = {u for row in moving for u in row[4:6] if u is not None}
        publish(
            events.CustomersMerged(
                via=via,
                audience=Audience(
                    team_ids=frozenset(Team.objects.values_list("pk", flat=True)),
                    user_ids=frozenset(people),
                ),
                source_id=source.pk,
                customer_id=target.pk,
                conversation_ids=conversation_ids,
                numbers=tuple(row[1] for row in moving),
            )
        )
    return target


# --- tags (admin) -----------------------------------------------------------


def _require_tag_admin(by: User | None) -> None:
    if by is not None and not (by.is_active and by.is_admin):
        raise PermissionDenied(_("Only admins may manage tags."))


def _clean_tag_name(name: str) -> str:
    try:
        (clean,) = validation.clean_tags([name])
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, field="name") from None
    return clean


def create_tag(*, by: User | None, name: str, via: str = Via.SYSTEM) -> Tag:
    """Add a tag before any conversation carries it (agents also add tags by using them)."""
    _require_tag_admin(by)
    clean = _clean_tag_name(name)
    with transaction.atomic():
        if Tag.objects.filter(name=clean).exists():
            raise Conflict(_("A tag with this name exists."), field="name")
        tag = Tag.objects.create(name=clean)
        record_event(tag, action="tag.created", actor=by, via=via, data={"name": clean})
        publish(
            events.TagChanged(via=via, audience=Audience(), tag_id=tag.pk, name=clean,
                              change="created")
        )  # fmt: skip
    return tag


def rename_tag(tag: Tag, *, by: User | None, name: str, via: str = Via.SYSTEM) -> Tag:
    """Rename a tag everywhere it is used; a name another tag has is refused."""
    _require_tag_admin(by)
    clean = _clean_tag_name(name)
    with transaction.atomic():
        try:
            locked = Tag.objects.select_for_update().get(pk=tag.pk)
        except Tag.DoesNotExist:
            raise NotFound(_("No such tag.")) from None
        previous = locked.name
        if previous == clean:
            return locked
        if Tag.objects.filter(name=clean).exclude(pk=locked.pk).exists():
            raise Conflict(_("A tag with this name exists."), field="name")
        locked.name = clean
        locked.save(update_fields=["name"])
        record_event(locked, action="tag.renamed", actor=by, via=via,
                     data={"from": previous, "to": clean})  # fmt: skip
        publish(
            events.TagChanged(via=via, audience=Audience(), tag_id=locked.pk, name=clean,
                              change="renamed", previous_name=previous)
        )  # fmt: skip
    return locked


def delete_tag(tag: Tag, *, by: User | None, via: str = Via.SYSTEM) -> None:
    """Remove a tag from every conversation and delete it; the audit row keeps its name."""
    _require_tag_admin(by)
    with transaction.atomic():
        try:
            locked = Tag.objects.select_for_update().get(pk=tag.pk)
        except Tag.DoesNotExist:
            raise NotFound(_("No such tag.")) from None
        links = ConversationTag.objects.filter(tag_id=locked.pk)
        usage = links.count()
        record_event(locked, action="tag.deleted", actor=by, via=via,
                     data={"name": locked.name, "conversations": usage})  # fmt: skip
        links.delete()
        tag_id, name = locked.pk, locked.name
        locked.delete()
        publish(
            events.TagChanged(via=via, audience=Audience(), tag_id=tag_id, name=name,
                              change="deleted")
        )  # fmt: skip


# --- saved inbox views ------------------------------------------------------

# The query parameters a saved view may keep; the inbox's filter form checks the values.
SAVED_VIEW_FILTERS = frozenset(
    {"status", "priority", "team", "assignee", "tag", "channel", "customer", "company", "language"}
)
SAVED_VIEW_SORTS = frozenset(SORTS)


def create_saved_view(
    *,
    by: User,
    name: str,
    filters: Mapping[str, str],
    sort: str = "activity",
    team: Team | None = None,
    via: str = Via.SYSTEM,
) -> SavedView:
    """Save inbox filters under a name, for `by` alone or shared with one of their teams."""
    if not (by.is_active and by.is_agent_staff):
        raise PermissionDenied(_("Only staff save inbox views."))
    clean_name = _saved_view_name(name)
    clean_filters = _saved_view_filters(filters)
    _check_saved_view_sort(sort)
    _check_saved_view_team(by, team)
    with transaction.atomic():
        last = SavedView.objects.filter(owner=by).aggregate(last=Max("position"))["last"]
        view = SavedView.objects.create(
            name=clean_name,
            owner=by,
            team=team,
            filters=clean_filters,
            sort=sort,
            position=0 if last is None else last + 1,
        )
        record_event(view, action="saved_view.created", actor=by, via=via,
                     data={"name": clean_name, "team_id": view.team_id})  # fmt: skip
    return view


_UNCHANGED: Any = object()


def update_saved_view(
    view: SavedView,
    *,
    by: User,
    name: str | None = None,
    filters: Mapping[str, str] | None = None,
    sort: str | None = None,
    team: Team | None = _UNCHANGED,
    via: str = Via.SYSTEM,
) -> SavedView:
    """Rename, re-filter or (un)share a saved view: its owner, or an admin."""
    _check_saved_view_owner(by, view)
    with transaction.atomic():
        try:
            locked = SavedView.objects.select_for_update().select_related("owner").get(pk=view.pk)
        except SavedView.DoesNotExist:
            raise NotFound(_("No such view.")) from None
        changed: dict[str, Any] = {}
        if name is not None:
            locked.name = changed["name"] = _saved_view_name(name)
        if filters is not None:
            locked.filters = changed["filters"] = _saved_view_filters(filters)
        if sort is not None:
            _check_saved_view_sort(sort)
            locked.sort = changed["sort"] = sort
        if team is not _UNCHANGED:
            _check_saved_view_team(locked.owner, team)
            locked.team = team
            changed["team_id"] = team.pk if team is not None else None
        if not changed:
            return locked
        locked.save()
        record_event(locked, action="saved_view.updated", actor=by, via=via, data=changed)
    return locked


def delete_saved_view(view: SavedView, *, by: User, via: str = Via.SYSTEM) -> None:
    """Remove a saved view: its owner, or an admin."""
    _check_saved_view_owner(by, view)
    with transaction.atomic():
        record_event(view, action="saved_view.deleted", actor=by, via=via,
                     data={"name": view.name})  # fmt: skip
        SavedView.objects.filter(pk=view.pk).delete()


def _check_saved_view_owner(by: User, view: SavedView) -> None:
    if by.is_active and (by.pk == view.owner_id or by.is_admin):
        return
    if view.team_id is not None and view.team_id in team_ids_for(by):
        raise PermissionDenied(_("Only the owner of a view may change it."))
    raise NotFound(_("No such view."))


def _saved_view_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise InvalidInput(_("Give the view a name."), field="name")
    if len(clean) > 100:  # noqa: PLR2004 - SavedView.name's max_length
        raise InvalidInput(_("Keep the name under 100 characters."), field="name")
    return clean


def _saved_view_filters(filters: Mapping[str, str]) -> dict[str, str]:
    unknown = set(filters) - SAVED_VIEW_FILTERS
    if unknown:
        raise InvalidInput(_("Unknown filter: %(name)s.") % {"name": sorted(unknown)[0]},
                           field="filters")  # fmt: skip
    clean: dict[str, str] = {}
    for key in sorted(filters):
        value = filters[key]
        if not isinstance(value, str) or len(value) > 200:
            raise InvalidInput(_("Invalid value for %(name)s.") % {"name": key}, field="filters")
        if value.strip():
            clean[key] = value.strip()
    return clean


def _check_saved_view_sort(sort: str) -> None:
    if sort not in SAVED_VIEW_SORTS:
        raise InvalidInput(_("Unknown sort order."), field="sort")


def _check_saved_view_team(owner: User, team: Team | None) -> None:
    if team is not None and team.pk not in team_ids_for(owner):
        raise InvalidInput(_("Share a view only with a team its owner belongs to."),
                           field="team")  # fmt: skip


# --- signatures ---------------------------------------------------------------


def signed_text(text: str, signature: str) -> str:
    """The reply as sent with the agent's signature under it.

    An empty reply stays empty, so the service still refuses it rather than
    sending a signature alone; a reply that already ends with the signature
    (typed or pasted in by hand) is not signed twice.
    """
    signature = signature.replace("\r\n", "\n").strip()
    body = text.replace("\r\n", "\n").rstrip()
    if not signature or not body.strip() or body.endswith(signature):
        return text
    return f"{body}\n\n{signature}"


# --- system lines and delivery status -------------------------------------------


def add_system_message(
    conversation: Conversation,
    *,
    text: str,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> Message:
    """A line from the system for the agents (a bounce, a follow-up); customers never see it.

    Added to a closed conversation too: what happened to it afterwards is still its history.
    """
    at = at or timezone.now()
    text = text.strip()
    if not text:
        raise InvalidInput(_("The message is empty."), field="text")
    with transaction.atomic():
        conv = _lock_following_merges(conversation)
        message = _create_message(
            conv, kind=MessageKind.SYSTEM, channel=conv.channel, by=None, text=text, html="",
            at=at, files=(),
        )  # fmt: skip
        conv.updated_at = max(conv.updated_at, at)
        conv.save(update_fields=["updated_at"])
        record_event(conv, action="message.added", actor=None, via=via, at=at,
                     data={"message_id": message.pk, "kind": message.kind})  # fmt: skip
        _publish_message(conv, message, by=None, via=via)
    return message


def set_delivery_status(
    message: Message,
    *,
    status: str,
    error: str = "",
    email_message_id: str | None = None,
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> Message:
    """Record how sending an outbound message went (queued, sent, failed with the reason).

    Only the system (the sending task, a bounce) knows this, so there is no `by`.
    The sender also records the Message-ID it sent under, which threads the
    customer's answer and matches a bounce to this message. Whatever the status
    was, it is overwritten; the sending worker moves its claimed reply with
    `claim_delivery` instead, which changes nothing when someone else moved it first.
    """
    at = at or timezone.now()
    validation.check_choice(status, DeliveryStatus.values, "status")
    error = error.strip() if status == DeliveryStatus.FAILED else ""
    with transaction.atomic():
        try:
            locked = Message.objects.select_for_update().get(pk=message.pk)
        except Message.DoesNotExist:
            raise NotFound(_("No such message.")) from None
        if locked.kind != MessageKind.REPLY:
            raise InvalidInput(_("Only replies are delivered."), field="status")
        new_id = locked.email_message_id if email_message_id is None else email_message_id[:998]
        if (locked.delivery_status, locked.delivery_error, locked.email_message_id) == (
            status, error, new_id,
        ):  # fmt: skip
            return locked
        previous = locked.delivery_status
        locked.delivery_status = status
        locked.delivery_error = error
        locked.email_message_id = new_id
        locked.delivery_updated_at = at
        locked.save(
            update_fields=[
                "delivery_status", "delivery_error", "email_message_id", "delivery_updated_at",
            ]
        )  # fmt: skip
        _delivery_changed(locked, previous=previous, via=via, at=at)
    return locked


def claim_delivery(
    message: Message,
    *,
    from_status: str,
    to_status: str,
    claimed_at: datetime | None = None,
    error: str = "",
    email_message_id: str | None = None,
    reason: str = "",
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> bool:
    """Move a reply from `from_status` to `to_status` only if it is still in `from_status`.

    One conditional UPDATE, so of callers racing for the same move exactly one
    gets True and the others change nothing (a row lock would not do: SQLite has
    none). The sending worker claims queued → sending and only the winner sends.
    `claimed_at`, when given, also requires delivery_updated_at to be that
    instant, the time the claim was taken (`at` of the claiming call): a fencing
    token, so a worker finishes (sending → sent, queued again, failed) only its
    own claim, and the sweep takes back only the stale claim it saw. A worker
    that wakes after its claim was taken back cannot undo the newer attempt.

    A claim is audited like any other delivery change (Event row and
    MessageDeliveryChanged): "sending" is a status agents see, and the trail
    then shows when each attempt started, which explains a rare second copy
    after an interrupted send. `reason` (a retry's temporary error, "interrupted")
    goes into the Event only. On True, `message` is updated in memory too.
    """
    at = at or timezone.now()
    validation.check_choice(from_status, DeliveryStatus.values, "from_status")
    validation.check_choice(to_status, DeliveryStatus.values, "status")
    error = error.strip() if to_status == DeliveryStatus.FAILED else ""
    changes: dict[str, Any] = {
        "delivery_status": to_status, "delivery_error": error, "delivery_updated_at": at,
    }  # fmt: skip
    if email_message_id is not None:
        changes["email_message_id"] = email_message_id[:998]
    rows = Message.objects.filter(
        pk=message.pk, kind=MessageKind.REPLY, delivery_status=from_status
    )
    if claimed_at is not None:
        rows = rows.filter(delivery_updated_at=claimed_at)
    with transaction.atomic():
        if rows.update(**changes) != 1:
            return False
        for name, value in changes.items():
            setattr(message, name, value)
        # The row's own conversation: a merge may have moved it since `message` was read.
        message.conversation_id = (
            Message.objects.filter(pk=message.pk).values_list("conversation_id", flat=True).get()
        )
        _delivery_changed(message, previous=from_status, reason=reason, via=via, at=at)
    return True


def _delivery_changed(
    message: Message, *, previous: str, via: str, at: datetime, reason: str = ""
) -> None:
    """The Event row and the domain event of a delivery change already written to `message`."""
    conv = Conversation.objects.get(pk=message.conversation_id)
    data: dict[str, Any] = {
        "message_id": message.pk, "status": message.delivery_status,
        "previous_status": previous, "error": message.delivery_error,
    }  # fmt: skip
    if reason:
        data["reason"] = reason
    record_event(conv, action="message.delivery_changed", actor=None, via=via, at=at, data=data)
    publish(
        events.MessageDeliveryChanged(
            via=via,
            audience=_audience(conv, public=False),
            conversation_id=conv.pk,
            number=conv.number,
            message_id=message.pk,
            status=message.delivery_status,
            error=message.delivery_error,
        )
    )


# --- SLA timers -------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaDue:
    """What the sla app computed of one conversation's timers, for its inbox row."""

    conversation_id: int
    due_at: datetime | None
    warning_at: datetime | None
    breached: bool
    paused: bool


def set_sla_due(dues: Sequence[SlaDue]) -> int:
    """Store the SLA summaries the sla app computed; returns how many conversations changed.

    One call serves one conversation (an event's reaction) and thousands (a policy edited),
    so it takes many and writes only those that differ: one upsert and one delete on
    PostgreSQL, whatever their number. The summaries live in `ConversationDue`, a narrow
    table (ADR 0009); a summary with nothing to show deletes its row. No audit row and no
    domain event: the values follow from changes that have both (a reply, a status), and
    the sla app audits what matters — the policy applied, warnings, breaches, escalations,
    each naming the policy — in the same transaction. The conversation row is not touched,
    so an SLA recount neither rewrites its indexes nor makes it look edited.
    """
    latest = {due.conversation_id: due for due in dues}
    kept = [due for _, due in sorted(latest.items()) if not _shows_nothing(due)]
    gone = sorted(pk for pk, due in latest.items() if _shows_nothing(due))
    if not kept and not gone:
        return 0
    # No savepoint: a reaction's one statement stays one query inside its caller's transaction.
    with transaction.atomic(savepoint=False):
        changed = _delete_sla_dues(gone) if gone else 0
        if kept and connection.vendor == "postgresql":
            changed += _upsert_sla_dues_in_one_statement(kept)
        elif kept:
            changed += _upsert_sla_dues_one_by_one(kept)
    return changed


def _shows_nothing(due: SlaDue) -> bool:
    return due.due_at is None and due.warning_at is None and not due.breached and not due.paused


def _delete_sla_dues(conversation_ids: Sequence[int]) -> int:
    deleted, _by_model = ConversationDue.objects.filter(pk__in=conversation_ids).delete()
    return deleted


_DUE_TABLE = ConversationDue._meta.db_table
# Only a row whose values differ is rewritten: a recount leaves most summaries as they were.
_DUE_CHANGED = (
    "d.due_at IS DISTINCT FROM EXCLUDED.due_at OR d.warning_at IS DISTINCT FROM EXCLUDED.warning_at"
    " OR d.breached IS DISTINCT FROM EXCLUDED.breached OR d.paused IS DISTINCT FROM EXCLUDED.paused"
)
_DUE_UPSERT = (
    f"INSERT INTO {_DUE_TABLE} AS d (conversation_id, due_at, warning_at, breached, paused) "
    "{rows} ON CONFLICT (conversation_id) DO UPDATE SET due_at = EXCLUDED.due_at, "
    "warning_at = EXCLUDED.warning_at, breached = EXCLUDED.breached, paused = EXCLUDED.paused "
    "WHERE {changed}"
)


def _upsert_sla_dues_in_one_statement(dues: Sequence[SlaDue]) -> int:
    connection.ensure_connection()
    rows = (
        "SELECT * FROM unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[], %b::boolean[], "
        "%b::boolean[])"
    )
    # A plain psycopg cursor binds the arrays on the server, in binary; Django's would spell
    # out thousands of values in the statement's text.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            _DUE_UPSERT.format(rows=rows, changed=_DUE_CHANGED),
            [
                [due.conversation_id for due in dues],
                [due.due_at for due in dues],
                [due.warning_at for due in dues],
                [due.breached for due in dues],
                [due.paused for due in dues],
            ],
        )
        return int(cursor.rowcount)


def _upsert_sla_dues_one_by_one(dues: Sequence[SlaDue]) -> int:
    # SQLite: one statement run for each summary (executemany), which is all it does anyway;
    # SQLite has no IS DISTINCT FROM, but its IS NOT compares nulls the same way.
    changed = _DUE_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            _DUE_UPSERT.format(rows="VALUES (%s, %s, %s, %s, %s)", changed=changed),
            [
                (due.conversation_id, adapt(due.due_at), adapt(due.warning_at),
                 due.breached, due.paused)
                for due in dues
            ],
        )  # fmt: skip
        return int(cursor.rowcount)
