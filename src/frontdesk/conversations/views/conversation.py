"""Workspace pages: one conversation (thread, composer, sidebar, history) and a new conversation.

Every change posts to its own small endpoint, calls one service and answers
with the fragment it changed, so htmx swaps it in place; without htmx the same
endpoints redirect back to the page (or show it with the error). A refused
change (core.errors.ServiceError) becomes a message on the field it names and
leaves the data as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from frontdesk.accounts import selectors as account_selectors
from frontdesk.accounts.decorators import staff_page
from frontdesk.accounts.models import Team, User
from frontdesk.conversations import selectors, services
from frontdesk.conversations.models import (
    TRANSITIONS,
    Channel,
    Conversation,
    CustomFieldDefinition,
    FieldKind,
    Message,
    MessageKind,
    Priority,
    Status,
)
from frontdesk.core.errors import InvalidInput, NotFound, ServiceError
from frontdesk.core.models import Via
from frontdesk.customers import selectors as customer_selectors
from frontdesk.customers import services as customer_services
from frontdesk.customers.models import Customer

# Channels an agent files a conversation under by hand, for someone who called or came in.
NEW_CHANNELS = (Channel.PHONE, Channel.VISIT, Channel.EMAIL)
# Reply, then move on: what "send and set status" offers.
SEND_AND_SET = (Status.PENDING, Status.ON_HOLD, Status.SOLVED)
LOOKUP_LIMIT = 10


# --- plumbing ---------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _error_key(error: ServiceError, known: Mapping[str, str], default: str) -> str:
    return known.get(error.field or "", default)


def _uploads(request: HttpRequest) -> list[services.Upload]:
    uploads = []
    for upload in request.FILES.getlist("attachments"):
        # Refused before reading it whole into memory; the service checks again.
        if upload.size is not None and upload.size > settings.MAX_ATTACHMENT_BYTES:
            raise InvalidInput(
                _("%(name)s is larger than %(mb)d MB.")
                % {"name": upload.name, "mb": settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)},
                field="attachments",
            )
        uploads.append(services.Upload(filename=upload.name or "", content=upload.read()))
    return uploads


# --- the page's parts -------------------------------------------------------------------


@dataclass
class Composer:
    """What the composer shows: the mode, the text kept after an error, the warning."""

    mode: str = MessageKind.REPLY
    text: str = ""
    then_status: str = ""
    seen: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    newer: list[Message] = field(default_factory=list)
    sent: str = ""
    had_files: bool = False
    # "Add my signature": ticked until the agent unticks it (shown only with a signature).
    sign: bool = True


@dataclass
class FieldRow:
    definition: CustomFieldDefinition
    name: str
    value: Any
    error: str = ""


def _display_value(definition: CustomFieldDefinition, value: Any) -> Any:
    if definition.kind == FieldKind.CHECKBOX:
        return bool(value)
    return "" if value is None else str(value)


def _sidebar_context(
    user: User, conversation: Conversation, errors: Mapping[str, str] | None = None
) -> dict[str, Any]:
    errors = dict(errors or {})
    teams = account_selectors.list_teams(user)
    if conversation.team_id is not None:
        members = [m for t in teams if t.pk == conversation.team_id for m in t.members.all()]
    else:
        members = list({m.pk: m for t in teams for m in t.members.all()}.values())
    assignees = [m for m in members if m.is_active and m.is_agent_staff]
    if conversation.assignee is not None and conversation.assignee not in assignees:
        assignees.insert(0, conversation.assignee)
    rows = []
    for definition in selectors.list_field_definitions(user):
        if not definition.active:
            continue
        key = f"custom_fields.{definition.key}"
        rows.append(
            FieldRow(
                definition=definition,
                name=f"cf_{definition.key}",
                value=_display_value(definition, conversation.custom_fields.get(definition.key)),
                error=errors.pop(key, ""),
            )
        )
    if any(key.startswith("custom_fields.") for key in errors):
        # A field no longer shown (made inactive meanwhile): say so where fields are.
        errors["fields"] = " ".join(v for k, v in errors.items() if k.startswith("custom_fields."))
    allowed = TRANSITIONS[conversation.status]
    return {
        "conversation": conversation,
        "errors": errors,
        "statuses": [
            (s.value, s.label) for s in Status if s in allowed or s == conversation.status
        ],
        "can_solve": Status.SOLVED in allowed,
        "priorities": Priority.choices,
        "teams": teams,
        "assignees": assignees,
        "field_rows": rows,
        "all_tags": selectors.list_tags(user),
    }


def _composer_context(conversation: Conversation, composer: Composer) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "composer": composer,
        "then_statuses": [
            (s.value, s.label) for s in SEND_AND_SET if s in TRANSITIONS[conversation.status]
        ],
    }


def _newest_id(messages: list[Message]) -> int:
    return max((m.pk for m in messages), default=0)


def _page(
    request: HttpRequest,
    user: User,
    conversation: Conversation,
    messages: list[Message],
    *,
    composer: Composer | None = None,
    sidebar_errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    composer = composer or Composer(
        mode=MessageKind.NOTE if request.GET.get("mode") == "note" else MessageKind.REPLY,
        seen=_newest_id(messages),
    )
    context = {
        "section": "inbox",
        "messages_list": messages,
        **_sidebar_context(user, conversation, sidebar_errors),
        **_composer_context(conversation, composer),
    }
    return render(request, "conversations/conversation.html", context, status=status)


# --- the conversation page --------------------------------------------------------------


@staff_page
@require_GET
def detail(request: HttpRequest, user: User, number: int) -> HttpResponse:
    conversation, messages = selectors.conversation_with_messages(user, number)
    return _page(request, user, conversation, messages)


@staff_page
@require_GET
def thread(request: HttpRequest, user: User, number: int) -> HttpResponse:
    conversation, messages = selectors.conversation_with_messages(user, number)
    return render(
        request,
        "conversations/_thread.html",
        {"conversation": conversation, "messages_list": messages},
    )


@staff_page
@require_GET
def sidebar(request: HttpRequest, user: User, number: int) -> HttpResponse:
    conversation = selectors.access_conversation(user, number)
    return render(request, "conversations/_sidebar.html", _sidebar_context(user, conversation))


@staff_page
@require_GET
def history(request: HttpRequest, user: User, number: int) -> HttpResponse:
    conversation = selectors.access_conversation(user, number)
    found = selectors.list_conversation_events(user, conversation)
    rows = [
        {"event": event, "what": _describe(event.action, event.data, found)}
        for event in found.events
    ]
    return render(
        request,
        "conversations/_history.html",
        {"conversation": conversation, "rows": rows, "capped": found.capped},
    )


_ACTIONS: dict[str, Any] = {
    "conversation.created": gettext_lazy("Conversation created"),
    "message.added": gettext_lazy("Message added"),
    "conversation.status_changed": gettext_lazy("Status changed"),
    "conversation.assigned": gettext_lazy("Assignee changed"),
    "conversation.team_changed": gettext_lazy("Team changed"),
    "conversation.transferred": gettext_lazy("Transferred"),
    "conversation.priority_changed": gettext_lazy("Priority changed"),
    "conversation.tags_changed": gettext_lazy("Tags changed"),
    "conversation.fields_changed": gettext_lazy("Fields changed"),
    "conversation.merged": gettext_lazy("Merged into another conversation"),
    "conversation.merge_received": gettext_lazy("Another conversation merged in"),
}


def _label(choices: type[Status | Priority | MessageKind | Channel], value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _describe(action: str, data: Mapping[str, Any], found: selectors.ConversationHistory) -> str:
    """One line saying what an audit row changed, with names instead of ids."""
    heading = str(_ACTIONS.get(action, action))

    def person(user_id: Any) -> str:
        return found.users.get(user_id, "—") if user_id is not None else _("nobody")

    def team(team_id: Any) -> str:
        return found.teams.get(team_id, "—") if team_id is not None else _("no team")

    detail = ""
    if action == "conversation.status_changed":
        previous, new = data.get("previous_status"), data.get("status")
        detail = f"{_label(Status, previous)} → {_label(Status, new)}"
    elif action == "conversation.priority_changed":
        previous, new = data.get("previous_priority"), data.get("priority")
        detail = f"{_label(Priority, previous)} → {_label(Priority, new)}"
    elif action == "conversation.assigned":
        detail = f"{person(data.get('previous_assignee_id'))} → {person(data.get('assignee_id'))}"
    elif action in ("conversation.team_changed", "conversation.transferred"):
        detail = f"{team(data.get('previous_team_id'))} → {team(data.get('team_id'))}"
    elif action == "message.added":
        detail = _label(MessageKind, data.get("kind"))
    elif action == "conversation.tags_changed":
        added = " ".join(f"+{t}" for t in data.get("added", []))
        removed = " ".join(f"−{t}" for t in data.get("removed", []))
        detail = " ".join(p for p in (added, removed) if p)
    elif action == "conversation.fields_changed":
        detail = ", ".join(sorted(data.get("values", {})))
    elif action == "conversation.created":
        detail = _label(Channel, data.get("channel"))
    elif action == "conversation.merged":
        detail = f"#{data.get('into')}"
    elif action == "conversation.merge_received":
        detail = f"#{data.get('from')}"
    return f"{heading}: {detail}" if detail else heading


# --- the composer -----------------------------------------------------------------------

_COMPOSER_FIELDS = {"text": "text", "attachments": "attachments", "status": "then_status"}


@staff_page
@require_POST
def post_message(request: HttpRequest, user: User, number: int) -> HttpResponse:
    """Send a reply or add a note; a reply that crossed someone else's is held for a confirm."""
    conversation, messages = selectors.conversation_with_messages(user, number)
    post = request.POST
    mode = MessageKind.NOTE if post.get("kind") == MessageKind.NOTE else MessageKind.REPLY
    composer = Composer(
        mode=mode,
        text=post.get("text", ""),
        then_status=post.get("then_status", "") if mode == MessageKind.REPLY else "",
        had_files=bool(request.FILES.getlist("attachments")),
        sign=post.get("sign") == "1",
    )
    try:
        seen = int(post.get("seen") or 0)
    except ValueError:
        seen = 0
    composer.seen = seen
    if mode == MessageKind.REPLY and post.get("confirm") != "1":
        composer.newer = [
            m for m in messages if m.pk > seen and m.is_public and m.author_user_id != user.pk
        ]
        if composer.newer:
            composer.seen = _newest_id(messages)
            return _composer_response(request, user, conversation, messages, composer, sent=False)
    try:
        uploads = _uploads(request)
        if mode == MessageKind.REPLY:
            services.add_reply(
                conversation,
                by=user,
                text=(
                    services.signed_text(composer.text, user.signature)
                    if composer.sign
                    else composer.text
                ),
                status=composer.then_status or None,
                via=Via.WEB,
                attachments=uploads,
            )
        else:
            services.add_note(
                conversation, by=user, text=composer.text, via=Via.WEB, attachments=uploads
            )
    except ServiceError as error:
        composer.errors[_error_key(error, _COMPOSER_FIELDS, "form")] = error.detail
        return _composer_response(request, user, conversation, messages, composer, sent=False)
    if not _is_htmx(request):
        return redirect("conversations:detail", number=number)
    conversation, messages = selectors.conversation_with_messages(user, number)
    fresh = Composer(mode=mode, seen=_newest_id(messages), sent=mode)
    return _composer_response(request, user, conversation, messages, fresh, sent=True)


def _composer_response(
    request: HttpRequest,
    user: User,
    conversation: Conversation,
    messages: list[Message],
    composer: Composer,
    *,
    sent: bool,
) -> HttpResponse:
    if not _is_htmx(request):
        # Without htmx the whole page comes back, with the text kept in the composer.
        return _page(request, user, conversation, messages, composer=composer, status=422)
    parts = [
        render_to_string(
            "conversations/_composer.html",
            _composer_context(conversation, composer),
            request=request,
        )
    ]
    if sent:
        parts.append(
            render_to_string(
                "conversations/_thread.html",
                {"conversation": conversation, "messages_list": messages, "oob": True},
                request=request,
            )
        )
        parts.append(
            render_to_string(
                "conversations/_sidebar.html",
                {**_sidebar_context(user, conversation), "oob": True},
                request=request,
            )
        )
    # htmx swaps only 2xx answers; the refused send is still "the composer, re-rendered".
    return HttpResponse("".join(parts))


# --- the sidebar ------------------------------------------------------------------------


def _sidebar_change(
    request: HttpRequest,
    user: User,
    number: int,
    change: Callable[[User, Conversation], object],
    *,
    default_field: str,
) -> HttpResponse:
    conversation = selectors.access_conversation(user, number)
    errors: dict[str, str] = {}
    try:
        change(user, conversation)
    except ServiceError as error:
        key = error.field or default_field
        if not key.startswith("custom_fields.") and key not in _SIDEBAR_FIELDS:
            key = default_field
        errors[key] = error.detail
    if errors or _is_htmx(request):
        try:
            conversation = selectors.access_conversation(user, number)
        except NotFound:
            return _gone(request, number)
    if not _is_htmx(request):
        if not errors:
            return redirect("conversations:detail", number=number)
        messages = selectors.list_messages(user, conversation)
        return _page(request, user, conversation, messages, sidebar_errors=errors, status=422)
    return render(
        request, "conversations/_sidebar.html", _sidebar_context(user, conversation, errors)
    )


def _gone(request: HttpRequest, number: int) -> HttpResponse:
    """The change moved the conversation out of the user's sight (a transfer): back to the inbox."""
    flash.info(
        request,
        _("Conversation #%(number)s moved where you no longer see it.") % {"number": number},
    )
    inbox = reverse("conversations:inbox")
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = inbox
        return response
    return redirect(inbox)


_SIDEBAR_FIELDS = frozenset({"status", "priority", "team", "assignee", "tags", "fields"})


@staff_page
@require_POST
def change_status(request: HttpRequest, user: User, number: int) -> HttpResponse:
    status = request.POST.get("status", "")

    def change(user: User, conversation: Conversation) -> object:
        return services.set_status(conversation, by=user, status=status, via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="status")


@staff_page
@require_POST
def change_priority(request: HttpRequest, user: User, number: int) -> HttpResponse:
    raw = request.POST.get("priority", "")

    def change(user: User, conversation: Conversation) -> object:
        try:
            priority = int(raw)
        except ValueError:
            raise InvalidInput(_("Choose a priority."), field="priority") from None
        return services.set_priority(conversation, by=user, priority=priority, via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="priority")


def _pick_team(user: User, raw: str) -> Team | None:
    if not raw:
        return None
    try:
        return account_selectors.access_team(user, int(raw))
    except (ValueError, NotFound):
        raise InvalidInput(_("Choose a team."), field="team") from None


def _pick_agent(user: User, raw: str, *, field: str = "assignee") -> User | None:
    if not raw:
        return None
    try:
        return account_selectors.access_user(user, int(raw))
    except (ValueError, NotFound):
        raise InvalidInput(_("Choose someone from the list."), field=field) from None


@staff_page
@require_POST
def change_team(request: HttpRequest, user: User, number: int) -> HttpResponse:
    """A move to another team is a transfer: the owner keeps following it."""
    raw = request.POST.get("team", "")

    def change(user: User, conversation: Conversation) -> object:
        team = _pick_team(user, raw)
        if team is None:
            return services.set_team(conversation, by=user, team=None, via=Via.WEB)
        if team.pk == conversation.team_id:
            return conversation
        keep = conversation.assignee
        if keep is not None and keep not in team.members.all():
            keep = None
        return services.transfer(conversation, by=user, team=team, assignee=keep, via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="team")


@staff_page
@require_POST
def change_assignee(request: HttpRequest, user: User, number: int) -> HttpResponse:
    raw = request.POST.get("assignee", "")

    def change(user: User, conversation: Conversation) -> object:
        assignee = _pick_agent(user, raw)
        return services.assign(conversation, by=user, assignee=assignee, via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="assignee")


@staff_page
@require_POST
def add_tags(request: HttpRequest, user: User, number: int) -> HttpResponse:
    names = [n for n in request.POST.get("tags", "").split(",") if n.strip()]

    def change(user: User, conversation: Conversation) -> object:
        if not names:
            raise InvalidInput(_("Enter a tag."), field="tags")
        return services.add_tags(conversation, by=user, tags=names, via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="tags")


@staff_page
@require_POST
def remove_tag(request: HttpRequest, user: User, number: int) -> HttpResponse:
    name = request.POST.get("tag", "")

    def change(user: User, conversation: Conversation) -> object:
        return services.remove_tags(conversation, by=user, tags=[name], via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="tags")


def _changed_field_values(
    definitions: list[CustomFieldDefinition], current: Mapping[str, Any], post: Mapping[str, Any]
) -> dict[str, Any]:
    """Only the values the form changed, so an untouched field is never rewritten."""
    values: dict[str, Any] = {}
    for definition in definitions:
        if not definition.active:
            continue
        name = f"cf_{definition.key}"
        if definition.kind == FieldKind.CHECKBOX:
            checked = name in post
            if checked != bool(current.get(definition.key)):
                values[definition.key] = checked
            continue
        raw = str(post.get(name, "")).strip()
        if raw == _display_value(definition, current.get(definition.key)):
            continue
        values[definition.key] = raw or None
    return values


@staff_page
@require_POST
def change_fields(request: HttpRequest, user: User, number: int) -> HttpResponse:
    post = request.POST

    def change(user: User, conversation: Conversation) -> object:
        definitions = selectors.list_field_definitions(user)
        values = _changed_field_values(definitions, conversation.custom_fields, post)
        if not values:
            return conversation
        return services.set_fields(conversation, by=user, values=values, via=Via.WEB)

    return _sidebar_change(request, user, number, change, default_field="fields")


# --- a new conversation -----------------------------------------------------------------

_NEW_FIELDS = {
    "customer": "customer",
    "name": "new_name",
    "emails": "new_email",
    "email": "new_email",
    "phones": "new_phone",
    "subject": "subject",
    "channel": "channel",
    "text": "text",
    "kind": "kind",
    "team": "team",
    "assignee": "assignee",
    "priority": "priority",
    "attachments": "attachments",
}


def _new_context(
    user: User,
    values: Mapping[str, str],
    *,
    customer: Customer | None,
    errors: Mapping[str, str],
) -> dict[str, Any]:
    teams = account_selectors.list_teams(user)
    mine = account_selectors.team_ids_for(user)
    default_team = next((t.pk for t in teams if t.pk in mine), "")
    return {
        "section": "inbox",
        "values": {"team": str(default_team), "priority": str(Priority.NORMAL), **values},
        "customer": customer,
        "errors": errors,
        "channels": [(c.value, c.label) for c in NEW_CHANNELS],
        "kinds": [
            (MessageKind.CUSTOMER.value, _("What the customer said (call or visit notes)")),
            (MessageKind.REPLY.value, _("Our message to the customer")),
        ],
        "teams": teams,
        "priorities": Priority.choices,
    }


def _chosen_customer(user: User, raw: str) -> Customer | None:
    if not raw:
        return None
    try:
        return customer_selectors.access_customer(user, int(raw))
    except (ValueError, NotFound):
        return None


def _customer_for(user: User, post: Mapping[str, str]) -> Customer:
    chosen = post.get("customer", "")
    if chosen:
        customer = _chosen_customer(user, chosen)
        if customer is None:
            raise InvalidInput(_("Choose a customer from the search."), field="customer")
        return customer
    name = post.get("new_name", "").strip()
    email = post.get("new_email", "").strip()
    phone = post.get("new_phone", "").strip()
    if not (name or email or phone):
        raise InvalidInput(
            _("Find the customer, or enter a new customer's name, email or phone."),
            field="customer",
        )
    return customer_services.create_customer(
        by=user,
        name=name,
        emails=[email] if email else [],
        phones=[phone] if phone else [],
        via=Via.WEB,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def new_conversation(request: HttpRequest, user: User) -> HttpResponse:
    if request.method != "POST":
        customer = _chosen_customer(user, request.GET.get("customer", ""))
        return render(
            request,
            "conversations/new_conversation.html",
            _new_context(user, {}, customer=customer, errors={}),
        )
    post = request.POST
    values = {key: str(post.get(key, "")) for key in _NEW_VALUE_KEYS}
    errors = _missing_new_values(values, has_files=bool(request.FILES.getlist("attachments")))
    if errors:
        return _new_refused(request, user, values, errors)
    try:
        # Files first, outside the transaction below: no disk writes while it holds locks.
        files = services.store_uploads(_uploads(request))
        # One unit: a customer made here is not left behind if the conversation is refused.
        with transaction.atomic():
            customer = _customer_for(user, values)
            try:
                priority = int(values["priority"] or Priority.NORMAL)
            except ValueError:
                raise InvalidInput(_("Choose a priority."), field="priority") from None
            conversation = services.create_conversation(
                by=user,
                customer=customer,
                subject=values["subject"],
                channel=values["channel"],
                text=values["text"],
                kind=values["kind"] or MessageKind.CUSTOMER,
                team=_pick_team(user, values["team"]),
                assignee=_pick_agent(user, values["assignee"]),
                priority=priority,
                via=Via.WEB,
                attachments=files,
            )
    except ServiceError as error:
        return _new_refused(
            request, user, values, {_error_key(error, _NEW_FIELDS, "form"): error.detail}
        )
    return redirect("conversations:detail", number=conversation.number)


def _missing_new_values(values: Mapping[str, str], *, has_files: bool) -> dict[str, str]:
    """What is plainly missing, all at once; the services judge the rest."""
    errors: dict[str, str] = {}
    if not (values["customer"] or values["new_name"].strip() or values["new_email"].strip()
            or values["new_phone"].strip()):  # fmt: skip
        errors["customer"] = _("Find the customer, or enter a new customer's name, email or phone.")
    if not values["subject"].strip():
        errors["subject"] = _("A subject is required.")
    if not values["text"].strip() and not has_files:
        errors["text"] = _("The message is empty.")
    if values["channel"] not in {c.value for c in NEW_CHANNELS}:
        errors["channel"] = _("Choose a channel.")
    return errors


def _new_refused(
    request: HttpRequest, user: User, values: Mapping[str, str], errors: Mapping[str, str]
) -> HttpResponse:
    return render(
        request,
        "conversations/new_conversation.html",
        _new_context(
            user, values, customer=_chosen_customer(user, values["customer"]), errors=errors
        ),
        status=422,
    )


_NEW_VALUE_KEYS = (
    "customer", "new_name", "new_email", "new_phone", "subject", "channel", "text", "kind",
    "team", "assignee", "priority",
)  # fmt: skip


@staff_page
@require_GET
def customer_lookup(request: HttpRequest, user: User) -> HttpResponse:
    """Customers matching the search box, as choices for the new-conversation form."""
    q = request.GET.get("q", "").strip()
    found: list[Customer] = []
    if len(q) >= 2:
        found = customer_selectors.list_customers(user, q=q, limit=LOOKUP_LIMIT).items
    return render(
        request, "conversations/conversation_customer_choices.html", {"found": found, "q": q}
    )


urls: list[URLPattern] = [
    path("conversations/new/", new_conversation, name="new"),
    path("conversations/new/customers/", customer_lookup, name="new_customer_lookup"),
    path("conversations/<int:number>/", detail, name="detail"),
    path("conversations/<int:number>/thread/", thread, name="conversation_thread"),
    path("conversations/<int:number>/sidebar/", sidebar, name="conversation_sidebar"),
    path("conversations/<int:number>/history/", history, name="conversation_history"),
    path("conversations/<int:number>/messages/", post_message, name="conversation_message"),
    path("conversations/<int:number>/status/", change_status, name="conversation_status"),
    path("conversations/<int:number>/priority/", change_priority, name="conversation_priority"),
    path("conversations/<int:number>/team/", change_team, name="conversation_team"),
    path("conversations/<int:number>/assignee/", change_assignee, name="conversation_assignee"),
    path("conversations/<int:number>/tags/", add_tags, name="conversation_tags"),
    path("conversations/<int:number>/tags/remove/", remove_tag, name="conversation_tag_remove"),
    path("conversations/<int:number>/fields/", change_fields, name="conversation_fields"),
]
