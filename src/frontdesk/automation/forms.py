"""The forms of the automation pages: they turn typed rows into stored conditions and actions.

Conditions and actions are rows of a formset (a few blank ones to fill, no script needed):
a field, an operator and a value typed as people know it (team names, agent emails,
"high" for a priority, several separated by commas). The form finds the rows they name;
rules.py and services.py check the result, and a refusal comes back on the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import Team, User
from frontdesk.automation import rules
from frontdesk.automation.models import (
    CannedReply,
    TimeAnchor,
    TimeBasis,
    TimeUnit,
    TriggerEvent,
    Webhook,
)
from frontdesk.automation.templating import PLACEHOLDERS, as_placeholder
from frontdesk.conversations.models import CustomFieldDefinition, FieldKind, Priority
from frontdesk.customers.models import Company, Customer
from frontdesk.customers.selectors import find_customer_by_email
from frontdesk.sla.models import BusinessCalendar

_SPLIT = re.compile(r"\s*,\s*")
NONE_WORDS = frozenset({"none", "nobody", "-", "—"})
_PRIORITIES = {p.name.lower(): p.value for p in Priority}
_PRIORITY_NAMES = {value: name for name, value in _PRIORITIES.items()}

FIELD_LABELS: dict[str, Any] = {
    "status": gettext_lazy("Status"),
    "priority": gettext_lazy("Priority"),
    "channel": gettext_lazy("Channel"),
    "team": gettext_lazy("Team"),
    "assignee": gettext_lazy("Assignee"),
    "company": gettext_lazy("Company"),
    "customer": gettext_lazy("Customer"),
    "language": gettext_lazy("Language"),
    "tags": gettext_lazy("Tags"),
    "subject": gettext_lazy("Subject"),
    "message": gettext_lazy("Message text"),
    "business_hours": gettext_lazy("Business hours"),
}
OP_LABELS: dict[str, Any] = {
    "is": gettext_lazy("is"),
    "is_not": gettext_lazy("is not"),
    "above": gettext_lazy("is above"),
    "below": gettext_lazy("is below"),
    "includes_any": gettext_lazy("include any of"),
    "includes_all": gettext_lazy("include all of"),
    "excludes": gettext_lazy("include none of"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "matches_words": gettext_lazy("has any of the words"),
    "inside": gettext_lazy("inside"),
    "outside": gettext_lazy("outside"),
    "present": gettext_lazy("is filled in"),
    "absent": gettext_lazy("is empty"),
}
ACTION_LABELS: dict[str, Any] = {
    "set_status": gettext_lazy("Set status"),
    "set_priority": gettext_lazy("Set priority"),
    "set_team": gettext_lazy("Set team"),
    "assign": gettext_lazy("Assign to"),
    "set_field": gettext_lazy("Set field (key=value)"),
    "add_tags": gettext_lazy("Add tags"),
    "remove_tags": gettext_lazy("Remove tags"),
    "add_note": gettext_lazy("Add internal note"),
    "email_customer": gettext_lazy("Email the customer"),
    "email_agent": gettext_lazy("Email an agent"),
    "webhook": gettext_lazy("Call webhook"),
}


def _items(value: str) -> list[str]:
    return [part for part in _SPLIT.split(value.strip()) if part]


class RowError(Exception):
    """A typed value that names nothing; the row shows it on its value."""


# --- typed values → stored values --------------------------------------------------------------


def _ids_by_name(value: str, model: type[Team | Company], unknown: str) -> list[int | None]:
    """Names typed with commas → ids ("none" → None); `unknown` % {"name"} for a name not found."""
    found: list[int | None] = []
    for item in _items(value):
        if item.lower() in NONE_WORDS:
            found.append(None)
            continue
        row = model.objects.filter(name__iexact=item).first()
        if row is None:
            raise RowError(unknown % {"name": item})
        found.append(row.pk)
    return found


def _team_ids(value: str) -> list[int | None]:
    return _ids_by_name(value, Team, _("There is no team %(name)s."))


def _user_id(item: str) -> int:
    user = User.objects.filter(email__iexact=item).first()
    if user is None or not user.is_agent_staff:
        raise RowError(_("No agent has the address %(email)s.") % {"email": item})
    return user.pk


def _user_ids(value: str) -> list[int | None]:
    return [None if i.lower() in NONE_WORDS else _user_id(i) for i in _items(value)]


def _company_ids(value: str) -> list[int | None]:
    return _ids_by_name(value, Company, _("There is no company %(name)s."))


def _customer_ids(value: str) -> list[int]:
    found = []
    for item in _items(value):
        customer = find_customer_by_email(item)
        if customer is None:
            raise RowError(_("No customer has the address %(email)s.") % {"email": item})
        found.append(customer.pk)
    return found


def _priority(item: str) -> int:
    key = item.strip().lower()
    if key in _PRIORITIES:
        return _PRIORITIES[key]
    if key.isdigit():
        return int(key)
    raise RowError(_("A priority is low, normal, high or urgent."))


def _calendar_id(value: str) -> int | None:
    if not value.strip():
        return None
    calendar = BusinessCalendar.objects.filter(name__iexact=value.strip()).first()
    if calendar is None:
        raise RowError(_("There is no calendar %(name)s.") % {"name": value.strip()})
    return calendar.pk


def _custom_value(key: str, value: str) -> Any:
    """A checkbox's yes/no as a boolean; any other value as typed (rules.py types it)."""
    text = value.strip()
    if CustomFieldDefinition.objects.filter(key=key, kind=FieldKind.CHECKBOX).exists():
        return text.lower() in ("yes", "true", "1", "on")
    return text


def condition_value(field: str, op: str, value: str) -> Any:
    if field.startswith(rules.CUSTOM_PREFIX):
        return (
            None
            if op in ("present", "absent")
            else _custom_value(field.removeprefix(rules.CUSTOM_PREFIX), value)
        )
    if field == "priority":
        return (
            _priority(value) if op in ("above", "below") else [_priority(i) for i in _items(value)]
        )
    readers = {
        "team": _team_ids, "assignee": _user_ids, "company": _company_ids,
        "customer": _customer_ids, "business_hours": _calendar_id,
    }  # fmt: skip
    if field in readers:
        return readers[field](value)
    if field in ("subject", "message"):
        return value
    return _items(value)


# --- stored values → typed values (to edit) ----------------------------------------------------


def _names(model: type[Team] | type[Company], ids: Sequence[int | None]) -> str:
    names = dict(model.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
    return ", ".join("none" if i is None else names.get(i, f"#{i}") for i in ids)


def _emails(ids: Sequence[int | None]) -> str:
    emails = dict(User.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "email"))
    return ", ".join("none" if i is None else emails.get(i, f"#{i}") for i in ids)


def _priority_names(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(_PRIORITY_NAMES.get(v, str(v)) for v in values)


def _customer_emails(ids: Sequence[int]) -> str:
    customers = Customer.objects.filter(pk__in=ids).prefetch_related("identities")
    return ", ".join(c.primary_email or f"#{c.pk}" for c in customers)


def _calendar_name(pk: int) -> str:
    return BusinessCalendar.objects.filter(pk=pk).values_list("name", flat=True).first() or ""


_CONDITION_WRITERS: dict[str, Any] = {
    "priority": _priority_names,
    "team": lambda v: _names(Team, v),
    "company": lambda v: _names(Company, v),
    "assignee": _emails,
    "customer": _customer_emails,
    "business_hours": _calendar_name,
}


def typed_condition_value(condition: Mapping[str, Any]) -> str:
    """A stored condition's value as people type it in its row."""
    field, value = condition["field"], condition.get("value")
    if value is None:
        return ""
    if field in _CONDITION_WRITERS:
        return str(_CONDITION_WRITERS[field](value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def field_choices(*, allow_event_fields: bool = True) -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [
        (field, label) for field, label in FIELD_LABELS.items()
        if allow_event_fields or field not in rules.EVENT_ONLY_FIELDS
    ]  # fmt: skip
    for key, label in CustomFieldDefinition.objects.values_list("key", "label"):
        choices.append((f"{rules.CUSTOM_PREFIX}{key}", label))
    return choices


# --- condition rows ----------------------------------------------------------------------------


class ConditionRow(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False, choices=())
    op = forms.ChoiceField(label=gettext_lazy("Operator"), required=False,
                           choices=[("", "—"), *OP_LABELS.items()])  # fmt: skip
    value = forms.CharField(label=gettext_lazy("Value"), required=False, max_length=500)

    def __init__(self, *args: Any, fields: Sequence[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["field"]).choices = [("", "—"), *fields]

    def stored(self) -> dict[str, Any] | None:
        """The condition this row says, or None for a blank row."""
        data = self.cleaned_data
        if not data.get("field"):
            return None
        try:
            value = condition_value(data["field"], data.get("op") or "", data.get("value") or "")
        except RowError as error:
            self.add_error("value", str(error))
            return None
        return {"field": data["field"], "op": data.get("op") or "", "value": value}


class ActionRow(forms.Form):
    type = forms.ChoiceField(label=gettext_lazy("Action"), required=False, choices=())
    value = forms.CharField(label=gettext_lazy("Value"), required=False, max_length=500)
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False, max_length=200)
    text = forms.CharField(
        label=gettext_lazy("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, allowed: Sequence[str] = rules.ACTION_TYPES, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["type"]).choices = [
            ("", "—"),
            *((t, ACTION_LABELS[t]) for t in allowed),
        ]

    def stored(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get("type")
        if not kind:
            return None
        try:
            return {"type": kind, **action_values(kind, data.get("value") or "", data)}
        except RowError as error:
            self.add_error("value", str(error))
            return None


def _assignee(value: str) -> Any:
    if value.lower() == rules.ME:
        return rules.ME
    return None if not value or value.lower() in NONE_WORDS else _user_id(value)


def _canned_id(value: str) -> int | None:
    if not value:
        return None
    found = CannedReply.objects.filter(name__iexact=value).first()
    if found is None:
        raise RowError(_("There is no canned reply %(name)s.") % {"name": value})
    return found.pk


def _webhook_id(value: str) -> int:
    webhook = Webhook.objects.filter(name__iexact=value).first()
    if webhook is None:
        raise RowError(_("There is no webhook %(name)s.") % {"name": value})
    return webhook.pk


def _field_assignment(value: str) -> dict[str, Any]:
    key, _eq, raw = value.partition("=")
    return {"key": key.strip(), "value": _custom_value(key.strip(), raw)}


def _mail(data: Mapping[str, Any]) -> dict[str, str]:
    return {"subject": data.get("subject") or "", "text": data.get("text") or ""}


_ACTION_READERS: dict[str, Any] = {
    "set_priority": lambda v, d: {"value": _priority(v)},
    "set_team": lambda v, d: {"value": (_team_ids(v) or [None])[0] if v else None},
    "assign": lambda v, d: {"value": _assignee(v)},
    "set_field": lambda v, d: _field_assignment(v),
    "add_tags": lambda v, d: {"value": _items(v)},
    "remove_tags": lambda v, d: {"value": _items(v)},
    "add_note": lambda v, d: {"text": d.get("text") or ""},
    "email_customer": lambda v, d: {**_mail(d), "canned_reply": _canned_id(v)},
    "email_agent": lambda v, d: {
        **_mail(d),
        "to": v.lower() if v.lower() in rules.AGENT_RECIPIENTS else _user_id(v),
    },
    "webhook": lambda v, d: {"webhook": _webhook_id(v)},
}


def action_values(kind: str, value: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A typed action row as the action's stored values (rules.py checks them)."""
    reader = _ACTION_READERS.get(kind)
    value = value.strip()
    return reader(value, data) if reader is not None else {"value": value}


def _name_of(model: type[CannedReply] | type[Webhook], pk: Any) -> str:
    return model.objects.filter(pk=pk).values_list("name", flat=True).first() or ""


def _shown_field(action: Mapping[str, Any]) -> str:
    value = action.get("value")
    shown = (
        ("yes" if value else "no") if isinstance(value, bool) else ("" if value is None else value)
    )
    return f"{action['key']}={shown}"


_ACTION_WRITERS: dict[str, Any] = {
    "set_priority": lambda a: _PRIORITY_NAMES.get(a["value"], str(a["value"])),
    "set_team": lambda a: _names(Team, [a["value"]]) if a["value"] is not None else "none",
    "assign": lambda a: (
        a["value"] if a["value"] == rules.ME else (_emails([a["value"]]) if a["value"] else "none")
    ),
    "set_field": _shown_field,
    "add_tags": lambda a: ", ".join(a["value"]),
    "remove_tags": lambda a: ", ".join(a["value"]),
    "email_customer": lambda a: (
        _name_of(CannedReply, a["canned_reply"]) if a.get("canned_reply") else ""
    ),
    "email_agent": lambda a: a["to"] if a["to"] in rules.AGENT_RECIPIENTS else _emails([a["to"]]),
    "webhook": lambda a: _name_of(Webhook, a["webhook"]),
}


def typed_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """A stored action as its row's initial values."""
    kind = action["type"]
    writer = _ACTION_WRITERS.get(kind)
    value = writer(action) if writer is not None else str(action.get("value") or "")
    return {"type": kind, "value": value, "subject": action.get("subject", ""),
            "text": action.get("text", "")}  # fmt: skip


ConditionRows = forms.formset_factory(ConditionRow, extra=2, max_num=rules.MAX_CONDITIONS)
ActionRows = forms.formset_factory(ActionRow, extra=2, max_num=rules.MAX_ACTIONS)


class RuleRows:
    """The "all", "any" and "actions" row sets of one rule form."""

    def __init__(
        self, data: Mapping[str, Any] | None, *, conditions: Mapping[str, Any] | None = None,
        actions: Sequence[Mapping[str, Any]] = (), allow_event_fields: bool = True,
        allowed_actions: Sequence[str] = rules.ACTION_TYPES, with_conditions: bool = True,
    ) -> None:  # fmt: skip
        conditions = conditions or {}
        # Read once for every row of both sets (the custom fields are a query), and not at
        # all for a form without conditions.
        fields = field_choices(allow_event_fields=allow_event_fields) if with_conditions else []
        kwargs = {"fields": fields}
        self.with_conditions = with_conditions
        self.all = ConditionRows(data, prefix="all", form_kwargs=kwargs, initial=[
            {**c, "value": typed_condition_value(c)} for c in conditions.get("all", [])
        ])  # fmt: skip
        self.any = ConditionRows(data, prefix="any", form_kwargs=kwargs, initial=[
            {**c, "value": typed_condition_value(c)} for c in conditions.get("any", [])
        ])  # fmt: skip
        self.actions = ActionRows(data, prefix="actions", form_kwargs={"allowed": allowed_actions},
                                  initial=[typed_action(a) for a in actions])  # fmt: skip

    def _sets(self) -> list[Any]:
        return [self.all, self.any, self.actions] if self.with_conditions else [self.actions]

    def is_valid(self) -> bool:
        # A list, not a generator: every set validates, so each shows its errors.
        return all([s.is_valid() for s in self._sets()])

    def conditions(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "all": [c for c in (row.stored() for row in self.all) if c is not None],
            "any": [c for c in (row.stored() for row in self.any) if c is not None],
        }

    def stored_actions(self) -> list[dict[str, Any]]:
        return [a for a in (row.stored() for row in self.actions) if a is not None]

    def rows_have_errors(self) -> bool:
        return any(row.errors for s in self._sets() for row in s)


# --- the rule forms ------------------------------------------------------------------------------


class TriggerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("When"), choices=TriggerEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Any of these events sets the trigger off."),
    )  # fmt: skip


class TimeRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    anchor = forms.ChoiceField(label=gettext_lazy("Measure"), choices=TimeAnchor.choices)
    amount = forms.IntegerField(label=gettext_lazy("After"), min_value=1, max_value=10_000)
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=TimeUnit.choices)
    basis = forms.ChoiceField(
        label=gettext_lazy("Counted in"),
        choices=TimeBasis.choices,
        help_text=gettext_lazy("In business time, days are open days."),
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Calendar"), queryset=BusinessCalendar.objects.all(), required=False,
        empty_label=gettext_lazy("The default calendar"),
    )  # fmt: skip


class MacroForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    text = forms.CharField(
        label=gettext_lazy("Reply text"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Placed in the composer; the agent can still change it."),
    )  # fmt: skip
    scope = forms.ChoiceField(label=gettext_lazy("Shared with"), choices=())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("personal", _("Only me"))]
        if user.is_admin:
            choices.insert(0, ("everybody", _("Everybody")))
            choices.extend((f"team:{t.pk}", t.name) for t in Team.objects.order_by("name"))
        cast(forms.ChoiceField, self.fields["scope"]).choices = choices

    def scope_values(self, user: User) -> dict[str, Any]:
        scope = self.cleaned_data["scope"]
        if scope == "personal":
            return {"owner": user, "team": None}
        if scope.startswith("team:"):
            return {"owner": None, "team": Team.objects.get(pk=int(scope[5:]))}
        return {"owner": None, "team": None}


class CannedReplyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"text_{code}"] = forms.CharField(
                label=name, required=False, widget=forms.Textarea(attrs={"rows": 4, "lang": code})
            )

    def texts(self) -> dict[str, str]:
        return {
            code: self.cleaned_data.get(f"text_{code}") or "" for code, _name in settings.LANGUAGES
        }

    def text_fields(self) -> list[forms.BoundField]:
        return [self[f"text_{code}"] for code, _name in settings.LANGUAGES]


class WebhookForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=2000,
        help_text=gettext_lazy("An https:// address (http:// for a local test)."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    new_secret = forms.BooleanField(
        label=gettext_lazy("Make a new signing secret"), required=False,
        help_text=gettext_lazy("The receiver must then use the new one."),
    )  # fmt: skip


def placeholder_help() -> list[tuple[str, Any]]:
    return [(as_placeholder(name), label) for name, label in PLACEHOLDERS.items()]
