"""Forms of the inbox: the filter bar (GET), bulk changes and saved views (POST)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from frontdesk.conversations.models import Channel, Priority, Status
from frontdesk.conversations.selectors import (
    SORT_ACTIVITY,
    SORT_CREATED,
    SORT_DUE,
    SORT_PRIORITY,
    UNASSIGNED,
    ConversationFilters,
)

NONE = "none"
FILTER_NAMES = (
    "status",
    "priority",
    "team",
    "assignee",
    "tag",
    "channel",
    "customer",
    "company",
    "language",
)
SORT_CHOICES = [
    (SORT_ACTIVITY, _("Last activity")),
    (SORT_CREATED, _("Newest created")),
    (SORT_PRIORITY, _("Priority")),
    (SORT_DUE, _("Due soonest")),
]
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")

Choices = Sequence[tuple[Any, str]]


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class InboxFilterForm(forms.Form):
    """The filters of the conversation list, as query parameters.

    Teams and people come in as (id, name) pairs read once by the view, so the
    form's choices cost no query of their own.
    """

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[*_blank(_("Any status")), *Status.choices]
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[*_blank(_("Any priority")), *Priority.choices],
    )
    team = forms.TypedChoiceField(
        label=_("Team"), required=False, coerce=int, empty_value=None, choices=()
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, choices=())
    tag = forms.CharField(label=_("Tag"), required=False, max_length=64)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[*_blank(_("Any channel")), *Channel.choices]
    )
    customer = forms.IntegerField(label=_("Customer ID"), required=False, min_value=1)
    company = forms.IntegerField(label=_("Company ID"), required=False, min_value=1)
    language = forms.CharField(
        label=_("Language"),
        required=False,
        max_length=10,
        help_text=_("A language code such as en or pt-br."),
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(
        self, data: Mapping[str, Any] | None, *, teams: Choices, people: Choices, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ChoiceField)  # noqa: S101 - declared above
        team_field.choices = [*_blank(_("Any team")), *teams]
        assignee_field = self.fields["assignee"]
        assert isinstance(assignee_field, forms.ChoiceField)  # noqa: S101 - declared above
        assignee_field.choices = [
            *_blank(_("Anyone")),
            (NONE, _("Nobody (unassigned)")),
            *((str(pk), name) for pk, name in people),
        ]
        self.fields["status"].widget.attrs["data-shortcut"] = "/"

    def clean_language(self) -> str:
        value = str(self.cleaned_data.get("language") or "").strip().lower()
        if value and not _LANGUAGE.match(value):
            raise ValidationError(_("Enter a language code such as en or pt-br."))
        return value

    def clean_tag(self) -> str:
        return " ".join(str(self.cleaned_data.get("tag") or "").split()).lower()

    def filters(self) -> ConversationFilters:
        """The selector's filters; call only when the form is valid."""
        data = self.cleaned_data
        assignee = data.get("assignee") or ""
        return ConversationFilters(
            status=data.get("status") or None,
            priority=data.get("priority"),
            team_id=data.get("team"),
            assignee_id=UNASSIGNED if assignee == NONE else (int(assignee) if assignee else None),
            tag=data.get("tag") or None,
            channel=data.get("channel") or None,
            customer_id=data.get("customer"),
            company_id=data.get("company"),
            language=data.get("language") or None,
        )

    def sort_order(self) -> str:
        return str(self.cleaned_data.get("sort") or SORT_ACTIVITY)

    def query(self) -> dict[str, str]:
        """The filters in use, as they would appear in the URL (for saving a view)."""
        return {name: str(self.data[name]) for name in FILTER_NAMES if self.data.get(name)}


BULK_ASSIGN = "assign"
BULK_STATUS = "status"
BULK_TAG = "tag"


class _Numbers(forms.TypedMultipleChoiceField):
    """Conversation numbers; which of them the user may change is the services' call."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit() and len(str(value)) < 19  # noqa: PLR2004 - fits a bigint


class BulkForm(forms.Form):
    """One change for the ticked conversations."""

    conversation = _Numbers(
        coerce=int,
        choices=(),
        error_messages={"required": _("Tick at least one conversation.")},
    )
    action = forms.ChoiceField(
        label=_("Change"),
        choices=[
            (BULK_ASSIGN, _("Assign to")),
            (BULK_STATUS, _("Set status")),
            (BULK_TAG, _("Add tag")),
        ],
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, choices=())
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[*_blank("—"), *Status.choices]
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=64)

    def __init__(self, data: Mapping[str, Any] | None, *, people: Choices, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        assignee_field = self.fields["assignee"]
        assert isinstance(assignee_field, forms.ChoiceField)  # noqa: S101 - declared above
        assignee_field.choices = [
            *_blank("—"),
            (NONE, _("Nobody (unassign)")),
            *((str(pk), name) for pk, name in people),
        ]

    def clean_conversation(self) -> list[int]:
        numbers = self.cleaned_data.get("conversation") or []
        return sorted({int(n) for n in numbers})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == BULK_ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("Choose who gets them, or nobody."))
        if action == BULK_STATUS and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if action == BULK_TAG and not str(data.get("tag") or "").strip():
            self.add_error("tag", _("Enter a tag."))
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    team = forms.TypedChoiceField(
        label=_("Share with"), required=False, coerce=int, empty_value=None, choices=()
    )

    def __init__(self, data: Mapping[str, Any] | None, *, teams: Choices, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ChoiceField)  # noqa: S101 - declared above
        team_field.choices = [*_blank(_("Only me")), *teams]
