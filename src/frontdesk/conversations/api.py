"""REST API v1: conversations, their messages, tags and custom field definitions.

Conversations are addressed by their human-facing `number`, never by row id.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import AwareDatetime, BeforeValidator, Field, WithJsonSchema

from frontdesk.accounts.api import TeamRef, UserRef, referenced_team, referenced_user, request_user
from frontdesk.accounts.models import User
from frontdesk.conversations import api_json, selectors, services, validation
from frontdesk.conversations.models import (
    Attachment,
    Channel,
    Conversation,
    CustomFieldDefinition,
    FieldKind,
    Message,
    MessageKind,
    Priority,
    Status,
)
from frontdesk.core.api_support import CursorPageOut, Input, fields_renamed
from frontdesk.core.errors import InvalidInput, NotFound, PermissionDenied
from frontdesk.core.models import Via
from frontdesk.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from frontdesk.customers.api import CustomerRef, referenced_customer
from frontdesk.customers.models import Customer
from frontdesk.customers.services import get_or_create_customer_by_email

router = Router(tags=["conversations"])

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
PriorityName = Literal["low", "normal", "high", "urgent"]
Text = Annotated[str, Field(min_length=1, max_length=200_000)]
TagName = Annotated[str, Field(min_length=1, max_length=64)]

# Services name model fields; request bodies name ids. Errors use the body's names.
_FIELD_NAMES = {
    "team": "team_id",
    "assignee": "assignee_id",
    "customer": "customer_id",
    "fields": "custom_fields",
}
_CREATE_FIELD_NAMES = {
    **_FIELD_NAMES,
    "text": "message.text",
    "html": "message.html",
    "attachments": "message.attachments",
}

_PRIORITY_BY_NAME: dict[str, int] = {p.name.lower(): p.value for p in Priority}
_NAME_BY_PRIORITY: dict[int, str] = {value: name for name, value in _PRIORITY_BY_NAME.items()}


# --- schemas: output -------------------------------------------------------------------


class ConversationOut(Schema):
    number: int
    subject: str
    status: Status
    priority: PriorityName
    channel: Channel
    language: str
    customer: CustomerRef
    team: TeamRef | None
    assignee: UserRef | None
    owner: UserRef | None
    tags: list[str]
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    last_customer_activity_at: datetime | None
    last_agent_activity_at: datetime | None
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_priority(obj: Conversation) -> str:
        return _NAME_BY_PRIORITY.get(obj.priority, "normal")

    @staticmethod
    def resolve_tags(obj: Conversation) -> list[str]:
        # Sorted in Python: an order_by() here would bypass the prefetched tags.
        return sorted(tag.name for tag in obj.tags.all())

    @staticmethod
    def resolve_custom_fields(obj: Conversation, context: Mapping[str, Any]) -> dict[str, Any]:
        request = (context or {}).get("request")
        if request is None or not request_user(request).is_customer:
            return dict(obj.custom_fields)
        visible = _customer_visible_field_keys(request)
        return {key: value for key, value in obj.custom_fields.items() if key in visible}


class ConversationPage(CursorPageOut):
    items: list[ConversationOut]


class AttachmentOut(Schema):
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    inline: bool

    @staticmethod
    def resolve_size(obj: Attachment) -> int:
        return int(obj.size)


class MessageOut(Schema):
    id: int
    kind: MessageKind
    channel: Channel
    author_user: UserRef | None
    author_customer: CustomerRef | None
    text: str
    html: str
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Any]:
        return list(obj.attachments.all())


class ConversationSlaOut(Schema):
    """The SLA timers in short: the earliest due time of a running target and its warning
    (null while paused or when none runs); the full timers are at /sla/conversations/{number}."""

    due_at: datetime | None
    warning_at: datetime | None
    breached: bool
    paused: bool


class ConversationDetailOut(ConversationOut):
    merged_into: int | None
    messages: list[MessageOut]
    # Null for customers: SLA times are the desk's own business.
    sla: ConversationSlaOut | None

    @staticmethod
    def resolve_merged_into(obj: Conversation) -> int | None:
        target = obj.merged_into
        return target.number if target is not None else None

    @staticmethod
    def resolve_sla(obj: Conversation, context: Mapping[str, Any]) -> dict[str, Any] | None:
        request = (context or {}).get("request")
        if request is not None and request_user(request).is_customer:
            return None
        return api_json.sla_summary(obj)


class TagOut(Schema):
    id: int
    name: str


class TagList(CursorPageOut):
    items: list[TagOut]


class FieldDefinitionOut(Schema):
    key: str
    label: str
    kind: FieldKind
    choices: list[str]
    required_to_solve: bool
    visible_to_customers: bool
    active: bool
    position: int


class FieldDefinitionList(CursorPageOut):
    items: list[FieldDefinitionOut]


# --- schemas: input --------------------------------------------------------------------


def _decode_base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("Give the file content as a base64 string.")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("This is not valid base64.") from None


Base64Content = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]


class AttachmentIn(Input):
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_base64: Base64Content


class MessageIn(Input):
    text: Text
    html: str = ""
    kind: Literal["customer", "reply"] = Field(
        "customer",
        description="`customer`: the customer wrote it; `reply`: an agent's outbound message.",
    )
    attachments: list[AttachmentIn] = []


class ConversationCreate(Input):
    subject: Annotated[str, Field(min_length=1, max_length=500)]
    customer_id: int | None = None
    customer_email: Annotated[str, Field(min_length=3, max_length=254)] | None = None
    customer_name: Annotated[str, Field(max_length=200)] = ""
    channel: Channel = Channel.API
    message: MessageIn
    team_id: int | None = None
    assignee_id: int | None = None
    priority: PriorityName = "normal"
    tags: list[TagName] = []
    custom_fields: dict[str, Any] = {}
    language: Annotated[str, Field(max_length=10)] = ""


class ConversationUpdate(Input):
    status: Status | None = None
    priority: PriorityName | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[TagName] | None = None


class ReplyIn(Input):
    text: Text
    html: str = ""
    attachments: list[AttachmentIn] = []
    status: Status | None = None


class NoteIn(Input):
    text: Text
    html: str = ""
    attachments: list[AttachmentIn] = []


class CustomerMessageIn(Input):
    text: Text
    html: str = ""
    attachments: list[AttachmentIn] = []


class MergeIn(Input):
    into: int


class TransferIn(Input):
    team_id: int
    assignee_id: int | None = None
    note: str = ""


class FieldDefinitionCreate(Input):
    key: Annotated[str, Field(min_length=1, max_length=64)]
    label: Annotated[str, Field(min_length=1, max_length=200)]
    kind: FieldKind
    choices: list[str] = []
    required_to_solve: bool = False
    visible_to_customers: bool = False
    position: Annotated[int, Field(ge=0)] = 0


class FieldDefinitionUpdate(Input):
    label: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    choices: list[str] | None = None
    required_to_solve: bool | None = None
    visible_to_customers: bool | None = None
    active: bool | None = None
    position: Annotated[int, Field(ge=0)] | None = None


# --- helpers ---------------------------------------------------------------------------


def _customer_visible_field_keys(request: HttpRequest) -> frozenset[str]:
    """Keys of the fields customers may see; looked up once per request, not per row."""
    keys = getattr(request, "_frontdesk_customer_field_keys", None)
    if keys is None:
        definitions = selectors.list_field_definitions(request_user(request))
        keys = frozenset(d.key for d in definitions if d.visible_to_customers)
        setattr(request, "_frontdesk_customer_field_keys", keys)  # noqa: B010
    return keys


def _parse_assignee(value: str | None) -> int | None:
    """`none` selects unassigned conversations (the selector's 0); otherwise a user id."""
    if value is None:
        return None
    if value.strip().lower() == "none":
        return 0
    try:
        user_id = int(value)
    except ValueError:
        raise InvalidInput(_("Give a user id or 'none'."), field="assignee") from None
    if user_id <= 0:
        raise InvalidInput(_("Give a user id or 'none'."), field="assignee")
    return user_id


def _customer_for_new_conversation(user: User, payload: ConversationCreate) -> Customer:
    if payload.customer_id is not None and payload.customer_email is not None:
        raise InvalidInput(
            _("Give either customer_id or customer_email, not both."), field="customer_email"
        )
    if payload.customer_id is not None:
        return referenced_customer(user, payload.customer_id, field="customer_id")
    if payload.customer_email is None:
        raise InvalidInput(_("Give customer_id or customer_email."), field="customer_id")
    if not user.is_agent_staff:
        # Creating customers by address is for staff and integrators, not for customers.
        raise PermissionDenied(
            _("Only staff may name a customer by email."), field="customer_email"
        )
    with fields_renamed({"email": "customer_email", "name": "customer_name"}):
        customer, _created = get_or_create_customer_by_email(
            payload.customer_email, name=payload.customer_name, via=Via.API
        )
    return customer


def _uploads(attachments: list[AttachmentIn]) -> list[services.Upload]:
    return [services.Upload(filename=a.filename, content=a.content_base64) for a in attachments]


def _non_null(changes: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if key in changes and changes[key] is None:
            raise InvalidInput(_("This field may not be null."), field=key)


# --- conversations ---------------------------------------------------------------------


@router.post("/conversations", response={201: ConversationOut})
def create_conversation(request: HttpRequest, payload: ConversationCreate) -> HttpResponse:
    """Open a conversation with its first message.

    Name the customer by `customer_id`, or by `customer_email` (staff only), which
    creates the customer when the address is new.
    """
    user = request_user(request)
    # One transaction when a customer may be created on the way, so a refused
    # conversation leaves no new customer behind; otherwise the service's own suffices.
    outer = transaction.atomic() if payload.customer_email is not None else nullcontext()
    with fields_renamed(_CREATE_FIELD_NAMES):
        # Stored before the outer transaction opens, so no disk writes happen under its locks.
        files = services.store_uploads(_uploads(payload.message.attachments))
    with fields_renamed(_CREATE_FIELD_NAMES), outer:
        customer = _customer_for_new_conversation(user, payload)
        team = None
        if payload.team_id is not None:
            team = referenced_team(user, payload.team_id, field="team_id")
        assignee = None
        if payload.assignee_id is not None:
            assignee = referenced_user(user, payload.assignee_id, field="assignee_id")
        conversation = services.create_conversation(
            by=user,
            customer=customer,
            subject=payload.subject,
            channel=payload.channel,
            text=payload.message.text,
            html=payload.message.html,
            kind=payload.message.kind,
            attachments=files,
            team=team,
            assignee=assignee,
            priority=_PRIORITY_BY_NAME[payload.priority],
            tags=payload.tags,
            fields=payload.custom_fields,
            language=payload.language,
            via=Via.API,
        )
    # A new conversation has exactly the tags asked for, as the service cleaned them.
    tags = validation.clean_tags(payload.tags)
    return api_json.render(
        request,
        api_json.conversation_summary(
            conversation, visible_fields=_visible_field_keys(request), tags=tags
        ),
        status=201,
    )


@router.get("/conversations", response=ConversationPage)
def list_conversations(
    request: HttpRequest,
    *,
    status: Status | None = None,
    team: int | None = None,
    assignee: Annotated[
        str | None, Field(description="A user id, or `none` for unassigned conversations.")
    ] = None,
    customer: int | None = None,
    tag: str | None = None,
    channel: Channel | None = None,
    updated_since: Annotated[
        AwareDatetime | None,
        Field(
            description="ISO 8601 with a UTC offset. Returns conversations changed since "
            "then, oldest change first, for syncing."
        ),
    ] = None,
    cursor: Annotated[
        str | None, Field(description="The `next_cursor` of the previous page.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> HttpResponse:
    """Conversations the caller may see, most recent activity first."""
    filters = selectors.ConversationFilters(
        status=status,
        team_id=team,
        assignee_id=_parse_assignee(assignee),
        customer_id=customer,
        tag=tag,
        channel=channel,
        updated_since=updated_since,
    )
    page = selectors.list_conversations(
        request_user(request), filters=filters, cursor=cursor, limit=limit
    )
    visible = _visible_field_keys(request)
    items = [api_json.conversation_summary(c, visible_fields=visible) for c in page.items]
    return api_json.render(request, {"items": items, "next_cursor": page.next_cursor})


@router.get("/conversations/{number}", response=ConversationDetailOut)
def get_conversation(request: HttpRequest, number: int) -> HttpResponse:
    """One conversation with its messages (customers never see internal notes)."""
    conversation, messages = selectors.conversation_with_messages(request_user(request), number)
    return api_json.render(
        request,
        api_json.conversation_detail(
            conversation, messages, visible_fields=_visible_field_keys(request)
        ),
    )


def _visible_field_keys(request: HttpRequest) -> frozenset[str] | None:
    """Custom field keys a customer may read; None (all) for staff."""
    if not request_user(request).is_customer:
        return None
    return _customer_visible_field_keys(request)


@router.patch("/conversations/{number}", response=ConversationOut)
def update_conversation(
    request: HttpRequest, number: int, payload: ConversationUpdate
) -> Conversation:
    """Change the keys sent, all or nothing. `tags` replaces the whole set;
    a `custom_fields` value of null removes that value."""
    user = request_user(request)
    changes = {key: getattr(payload, key) for key in payload.model_fields_set}
    _non_null(changes, "status", "priority", "custom_fields", "tags")
    # All or nothing: a refused second change undoes the first.
    with fields_renamed(_FIELD_NAMES), transaction.atomic():
        conversation = selectors.access_conversation(user, number)
        if "priority" in changes:
            conversation = services.set_priority(
                conversation, by=user, priority=_PRIORITY_BY_NAME[changes["priority"]], via=Via.API
            )
        if "custom_fields" in changes:
            conversation = services.set_fields(
                conversation, by=user, values=changes["custom_fields"], via=Via.API
            )
        if "tags" in changes:
            conversation = services.set_tags(
                conversation, by=user, tags=changes["tags"], via=Via.API
            )
        # Status after the fields, so fields required to solve can be filled in one request.
        if "status" in changes:
            conversation = services.set_status(
                conversation, by=user, status=changes["status"], via=Via.API
            )
        # Routing last: after a move to another team the caller may no longer work on it.
        if "team_id" in changes:
            team = None
            if changes["team_id"] is not None:
                team = referenced_team(user, changes["team_id"], field="team_id")
            conversation = services.set_team(conversation, by=user, team=team, via=Via.API)
        if "assignee_id" in changes:
            assignee = None
            if changes["assignee_id"] is not None:
                assignee = referenced_user(user, changes["assignee_id"], field="assignee_id")
            conversation = services.assign(conversation, by=user, assignee=assignee, via=Via.API)
    # What the services returned: a change may have moved it out of the caller's sight.
    return conversation


@router.post("/conversations/{number}/replies", response={201: MessageOut})
def add_reply(request: HttpRequest, number: int, payload: ReplyIn) -> HttpStatus[Message]:
    user = request_user(request)
    message = services.add_reply(
        selectors.access_conversation(user, number),
        by=user,
        text=payload.text,
        html=payload.html,
        attachments=_uploads(payload.attachments),
        status=payload.status,
        via=Via.API,
    )
    return HttpStatus(201, message)


@router.post("/conversations/{number}/notes", response={201: MessageOut})
def add_note(request: HttpRequest, number: int, payload: NoteIn) -> HttpStatus[Message]:
    user = request_user(request)
    message = services.add_note(
        selectors.access_conversation(user, number),
        by=user,
        text=payload.text,
        html=payload.html,
        attachments=_uploads(payload.attachments),
        via=Via.API,
    )
    return HttpStatus(201, message)


@router.post("/conversations/{number}/customer-messages", response={201: MessageOut})
def add_customer_message(
    request: HttpRequest, number: int, payload: CustomerMessageIn
) -> HttpStatus[Message]:
    """For integrators relaying what the customer wrote elsewhere (reopens a solved one)."""
    user = request_user(request)
    message = services.add_customer_message(
        selectors.access_conversation(user, number),
        by=user,
        text=payload.text,
        html=payload.html,
        attachments=_uploads(payload.attachments),
        channel=Channel.API,
        via=Via.API,
    )
    return HttpStatus(201, message)


@router.post("/conversations/{number}/merge", response=ConversationOut)
def merge_conversation(request: HttpRequest, number: int, payload: MergeIn) -> Conversation:
    user = request_user(request)
    source = selectors.access_conversation(user, number)
    try:
        target = selectors.access_conversation(user, payload.into)
    except NotFound:
        raise InvalidInput(
            _("There is no conversation %(number)s.") % {"number": payload.into}, field="into"
        ) from None
    return services.merge(source, by=user, into=target, via=Via.API)


@router.post("/conversations/{number}/transfer", response=ConversationOut)
def transfer_conversation(request: HttpRequest, number: int, payload: TransferIn) -> Conversation:
    user = request_user(request)
    conversation = selectors.access_conversation(user, number)
    team = referenced_team(user, payload.team_id, field="team_id")
    assignee = None
    if payload.assignee_id is not None:
        assignee = referenced_user(user, payload.assignee_id, field="assignee_id")
    with fields_renamed(_FIELD_NAMES):
        # The transferred conversation may now be out of the caller's sight: render it as is.
        return services.transfer(
            conversation, by=user, team=team, assignee=assignee, note=payload.note, via=Via.API
        )


# --- tags and custom fields ------------------------------------------------------------


@router.get(
    "/attachments/{attachment_id}",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, always as a download.",
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    """The file of an attachment the caller may see, served as a download, never inline.

    Its type is the one sniffed at upload; `nosniff` stops a browser from guessing
    another, so an uploaded page or script never runs in Frontdesk's origin.
    """
    attachment = selectors.access_attachment(request_user(request), attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@router.get("/tags", response=TagList, tags=["tags and custom fields"])
def list_tags(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_tags(request_user(request)), "next_cursor": None}


@router.get("/custom-fields", response=FieldDefinitionList, tags=["tags and custom fields"])
def list_custom_fields(request: HttpRequest) -> dict[str, Any]:
    items = selectors.list_field_definitions(request_user(request))
    return {"items": items, "next_cursor": None}


@router.post("/custom-fields", response={201: FieldDefinitionOut}, tags=["tags and custom fields"])
def create_custom_field(
    request: HttpRequest, payload: FieldDefinitionCreate
) -> HttpStatus[CustomFieldDefinition]:
    definition = services.create_field_definition(
        by=request_user(request),
        key=payload.key,
        label=payload.label,
        kind=payload.kind,
        choices=payload.choices,
        required_to_solve=payload.required_to_solve,
        visible_to_customers=payload.visible_to_customers,
        position=payload.position,
        via=Via.API,
    )
    return HttpStatus(201, definition)


@router.patch("/custom-fields/{key}", response=FieldDefinitionOut, tags=["tags and custom fields"])
def update_custom_field(
    request: HttpRequest, key: str, payload: FieldDefinitionUpdate
) -> CustomFieldDefinition:
    user = request_user(request)
    changes = {name: getattr(payload, name) for name in payload.model_fields_set}
    _non_null(changes, *changes)
    definition = selectors.access_field_definition(user, key)
    return services.update_field_definition(definition, by=user, via=Via.API, **changes)
