"""The shape of conditions and actions, checked before anything is saved.

Conditions are `{"all": [...], "any": [...]}`: every condition in "all" must hold, and at
least one in "any" when it has any. One condition is `{"field", "op", "value"}`:

=====================  =========================================  ==============================
field                  op                                         value
=====================  =========================================  ==============================
status, channel,       is, is_not                                 list of codes
language
priority               is, is_not / above, below                  list of 1..4 / one of 1..4
team, assignee,        is, is_not                                 list of ids (null: none)
company
customer               is, is_not                                 list of ids
tags                   includes_any, includes_all, excludes       list of tag names
subject, message       contains, not_contains, matches_words      text
business_hours         inside, outside                            calendar id (null: default)
custom_fields.<key>    is, is_not, contains / present, absent     a value of the field's kind
=====================  =========================================  ==============================

"message" is the text of the message that fired a trigger (the latest customer message in a
dry run). Actions are a list of `{"type", ...}`; see `ACTION_TYPES`. Ids are checked
against the rows they name, and texts against the template sandbox (templating.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from frontdesk.accounts.models import Team, User
from frontdesk.automation import templating
from frontdesk.automation.models import CannedReply, Webhook
from frontdesk.conversations import validation
from frontdesk.conversations.models import (
    Channel,
    CustomFieldDefinition,
    FieldKind,
    Priority,
    Status,
)
from frontdesk.core.errors import InvalidInput
from frontdesk.customers.models import Company, Customer
from frontdesk.sla.models import BusinessCalendar

MAX_CONDITIONS = 30
MAX_ACTIONS = 20
MAX_TEXT_VALUE = 500
MAX_SUBJECT = 200
CUSTOM_PREFIX = "custom_fields."

CHOICE_OPS = ("is", "is_not")
TEXT_OPS = ("contains", "not_contains", "matches_words")
OPERATORS: dict[str, tuple[str, ...]] = {
    "status": CHOICE_OPS,
    "channel": CHOICE_OPS,
    "language": CHOICE_OPS,
    "priority": ("is", "is_not", "above", "below"),
    "team": CHOICE_OPS,
    "assignee": CHOICE_OPS,
    "company": CHOICE_OPS,
    "customer": CHOICE_OPS,
    "tags": ("includes_any", "includes_all", "excludes"),
    "subject": TEXT_OPS,
    "message": TEXT_OPS,
    "business_hours": ("inside", "outside"),
}
CUSTOM_OPS = ("is", "is_not", "contains", "present", "absent")

# What the scheduler cannot know of a conversation at rest: no message fired it.
EVENT_ONLY_FIELDS = frozenset({"message"})

ACTION_TYPES = (
    "set_status",
    "set_priority",
    "set_team",
    "assign",
    "set_field",
    "add_tags",
    "remove_tags",
    "add_note",
    "email_customer",
    "email_agent",
    "webhook",
)
# An agent applies a macro: it changes the conversation, it does not mail or call out.
MACRO_ACTION_TYPES = frozenset(
    {"set_status", "set_priority", "set_team", "assign", "set_field", "add_tags", "remove_tags"}
)
AGENT_RECIPIENTS = ("assignee", "owner")
ME = "me"


# --- conditions ------------------------------------------------------------------------------


def clean_conditions(
    raw: Any, *, allow_event_fields: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Conditions in their stored form; InvalidInput (field "conditions") for anything else."""
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, Mapping) or set(raw) - {"all", "any"}:
        raise _bad_conditions(_('Conditions are {"all": [...], "any": [...]}.'))
    cleaned: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    for group in ("all", "any"):
        items = raw.get(group) or []
        if not isinstance(items, Sequence) or isinstance(items, str):
            raise _bad_conditions(_("Each group of conditions is a list."))
        cleaned[group] = [clean_condition(item, allow_event_fields) for item in items]
    if len(cleaned["all"]) + len(cleaned["any"]) > MAX_CONDITIONS:
        raise _bad_conditions(_("At most %(max)d conditions.") % {"max": MAX_CONDITIONS})
    return cleaned


def _bad_conditions(message: str) -> InvalidInput:
    return InvalidInput(message, field="conditions")


def clean_condition(raw: Any, allow_event_fields: bool = True) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _bad_conditions(_("A condition has a field, an operator and a value."))
    field = str(raw.get("field", ""))
    op = str(raw.get("op", ""))
    value = raw.get("value")
    if field.startswith(CUSTOM_PREFIX):
        return _clean_custom_condition(field, op, value)
    if field not in OPERATORS:
        raise _bad_conditions(_("There is no condition on %(field)s.") % {"field": field or "—"})
    if field in EVENT_ONLY_FIELDS and not allow_event_fields:
        raise _bad_conditions(_("Time rules cannot test the text of a message."))
    if op not in OPERATORS[field]:
        raise _bad_conditions(
            _("%(field)s takes one of: %(ops)s.")
            % {"field": field, "ops": ", ".join(OPERATORS[field])}
        )
    return {"field": field, "op": op, "value": _CONDITION_VALUES[field](op, value)}


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, str | int):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise _bad_conditions(_("Give a list of values."))


def _codes(allowed: Sequence[str] | None) -> Callable[[str, Any], list[str]]:
    def clean(op: str, value: Any) -> list[str]:
        codes = [
            str(v).strip().lower() for v in _as_list(value) if v is not None and str(v).strip()
        ]
        if not codes:
            raise _bad_conditions(_("Give at least one value."))
        for code in codes:
            if allowed is not None and code not in allowed:
                raise _bad_conditions(
                    _("%(value)s is not one of: %(allowed)s.")
                    % {"value": code, "allowed": ", ".join(allowed)}
                )
            if len(code) > 10 and allowed is None:  # noqa: PLR2004 - a language code's length
                raise _bad_conditions(_("%(value)s is not a language code.") % {"value": code})
        return sorted(set(codes))

    return clean


def _priority(op: str, value: Any) -> Any:
    if op in ("above", "below"):
        return _one_priority(value)
    return sorted({_one_priority(v) for v in _as_list(value)})


def _one_priority(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number not in Priority.values:
        raise _bad_conditions(_("A priority is one of 1 (low) to 4 (urgent)."))
    return number


def _ids(
    model: type[Team] | type[User] | type[Company] | type[Customer], *, none: bool
) -> Callable[[str, Any], list[int | None]]:
    def clean(op: str, value: Any) -> list[int | None]:
        wanted: list[int | None] = []
        for item in _as_list(value):
            if item is None or item == "":
                if not none:
                    raise _bad_conditions(_("Give at least one value."))
                wanted.append(None)
                continue
            wanted.append(_int(item))
        if not wanted:
            raise _bad_conditions(_("Give at least one value."))
        ids = {i for i in wanted if i is not None}
        found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if ids - found:
            raise _bad_conditions(_("%(id)s does not exist.") % {"id": min(ids - found)})
        return sorted(set(wanted), key=lambda i: -1 if i is None else i)

    return clean


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_conditions(_("%(value)s is not an id.") % {"value": value}) from None


def _tags(op: str, value: Any) -> list[str]:
    try:
        names = validation.clean_tags([str(v) for v in _as_list(value) if v is not None])
    except InvalidInput as error:
        raise _bad_conditions(error.detail) from None
    if not names:
        raise _bad_conditions(_("Give at least one tag."))
    return names


def _text(op: str, value: Any) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise _bad_conditions(_("Give the text to look for."))
    if len(text) > MAX_TEXT_VALUE:
        raise _bad_conditions(_("The text is too long."))
    return text


def _calendar(op: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    pk = _int(value)
    if not BusinessCalendar.objects.filter(pk=pk).exists():
        raise _bad_conditions(_("There is no such calendar."))
    return pk


_CONDITION_VALUES: dict[str, Callable[[str, Any], Any]] = {
    "status": _codes(Status.values),
    "channel": _codes(Channel.values),
    "language": _codes(None),
    "priority": _priority,
    "team": _ids(Team, none=True),
    "assignee": _ids(User, none=True),
    "company": _ids(Company, none=True),
    "customer": _ids(Customer, none=False),
    "tags": _tags,
    "subject": _text,
    "message": _text,
    "business_hours": _calendar,
}


def _clean_custom_condition(field: str, op: str, value: Any) -> dict[str, Any]:
    key = field.removeprefix(CUSTOM_PREFIX)
    definition = CustomFieldDefinition.objects.filter(key=key).first()
    if definition is None:
        raise _bad_conditions(_("There is no field %(key)s.") % {"key": key})
    if op not in CUSTOM_OPS:
        raise _bad_conditions(
            _("%(field)s takes one of: %(ops)s.") % {"field": field, "ops": ", ".join(CUSTOM_OPS)}
        )
    if op in ("present", "absent"):
        return {"field": field, "op": op, "value": None}
    if op == "contains":
        if definition.kind != FieldKind.TEXT:
            raise _bad_conditions(_("Only text fields can contain text."))
        return {"field": field, "op": op, "value": _text(op, value)}
    try:
        typed = validation.clean_field_value(definition, value, field)
    except InvalidInput as error:
        raise _bad_conditions(f"{key}: {error.detail}") from None
    return {"field": field, "op": op, "value": typed}


# --- actions ---------------------------------------------------------------------------------


def clean_actions(
    raw: Any, *, allowed: Sequence[str] = ACTION_TYPES, required: bool = True
) -> list[dict[str, Any]]:
    """Actions in their stored form; InvalidInput (field "actions") for anything else."""
    if raw in (None, ""):
        raw = []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise _bad_actions(_("Actions are a list."))
    if required and not raw:
        raise _bad_actions(_("Add at least one action."))
    if len(raw) > MAX_ACTIONS:
        raise _bad_actions(_("At most %(max)d actions.") % {"max": MAX_ACTIONS})
    return [clean_action(item, allowed) for item in raw]


def _bad_actions(message: str) -> InvalidInput:
    return InvalidInput(message, field="actions")


def clean_action(raw: Any, allowed: Sequence[str] = ACTION_TYPES) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _bad_actions(_("An action has a type."))
    kind = str(raw.get("type", ""))
    if kind not in allowed:
        raise _bad_actions(_("%(type)s is not an action here.") % {"type": kind or "—"})
    return {"type": kind, **_ACTION_VALUES[kind](raw)}


def _status_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    value = str(raw.get("value", ""))
    if value not in Status.values:
        raise _bad_actions(_("%(value)s is not a status.") % {"value": value})
    return {"value": value}


def _priority_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        value = int(raw.get("value", 0))
    except (TypeError, ValueError):
        value = 0
    if value not in Priority.values:
        raise _bad_actions(_("A priority is one of 1 (low) to 4 (urgent)."))
    return {"value": value}


def _team_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    value = raw.get("value")
    if value is None or value == "":
        return {"value": None}
    team_id = _action_id(value)
    if not Team.objects.filter(pk=team_id).exists():
        raise _bad_actions(_("There is no such team."))
    return {"value": team_id}


def _assign_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    value = raw.get("value")
    if value is None or value == "":
        return {"value": None}
    if value == ME:
        return {"value": ME}
    user_id = _action_id(value)
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_agent_staff:
        raise _bad_actions(_("Conversations are assigned to agents only."))
    return {"value": user_id}


def _action_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_actions(_("%(value)s is not an id.") % {"value": value}) from None


def _field_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    key = str(raw.get("key", ""))
    definition = CustomFieldDefinition.objects.filter(key=key, active=True).first()
    if definition is None:
        raise _bad_actions(_("There is no field %(key)s.") % {"key": key or "—"})
    value = raw.get("value")
    if value is None or value == "":
        return {"key": key, "value": None}
    try:
        typed = validation.clean_field_value(definition, value, f"{CUSTOM_PREFIX}{key}")
    except InvalidInput as error:
        raise _bad_actions(f"{key}: {error.detail}") from None
    return {"key": key, "value": typed}


def _tags_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    value = raw.get("value")
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    try:
        names = validation.clean_tags(list(value or []))
    except InvalidInput as error:
        raise _bad_actions(error.detail) from None
    if not names:
        raise _bad_actions(_("Give at least one tag."))
    return {"value": names}


def _note_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"text": _template(raw.get("text"), required=True)}


def _template(value: Any, *, required: bool, limit: int = templating.MAX_TEMPLATE) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _bad_actions(_("Write the text."))
    if len(text) > limit:
        raise _bad_actions(_("The text is longer than %(max)d characters.") % {"max": limit})
    try:
        return templating.check_template(text, field="actions")
    except InvalidInput as error:
        raise _bad_actions(error.detail) from None


def _email_customer_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    canned = raw.get("canned_reply")
    cleaned: dict[str, Any] = {
        "subject": _template(raw.get("subject"), required=False, limit=MAX_SUBJECT)
    }
    if canned not in (None, ""):
        canned_id = _action_id(canned)
        if not CannedReply.objects.filter(pk=canned_id).exists():
            raise _bad_actions(_("There is no such canned reply."))
        return {**cleaned, "canned_reply": canned_id, "text": ""}
    return {**cleaned, "canned_reply": None, "text": _template(raw.get("text"), required=True)}


def _email_agent_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    to = raw.get("to")
    if to not in AGENT_RECIPIENTS:
        user_id = _action_id(to)
        user = User.objects.filter(pk=user_id).first()
        if user is None or not user.is_agent_staff:
            raise _bad_actions(_("Email agents only: the assignee, the owner or a staff member."))
        to = user_id
    return {
        "to": to,
        "subject": _template(raw.get("subject"), required=True, limit=MAX_SUBJECT),
        "text": _template(raw.get("text"), required=True),
    }


def _webhook_action(raw: Mapping[str, Any]) -> dict[str, Any]:
    webhook_id = _action_id(raw.get("webhook"))
    if not Webhook.objects.filter(pk=webhook_id).exists():
        raise _bad_actions(_("There is no such webhook."))
    return {"webhook": webhook_id}


_ACTION_VALUES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "set_status": _status_action,
    "set_priority": _priority_action,
    "set_team": _team_action,
    "assign": _assign_action,
    "set_field": _field_action,
    "add_tags": _tags_action,
    "remove_tags": _tags_action,
    "add_note": _note_action,
    "email_customer": _email_customer_action,
    "email_agent": _email_agent_action,
    "webhook": _webhook_action,
}
