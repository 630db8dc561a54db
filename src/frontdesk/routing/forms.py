"""The rule and team-assignment forms; they parse what people type, routing/services.py decides.

Lists are typed one value a line (or separated by commas where values have no commas),
customers by email and companies by name, so no script is needed to add one; a name
that finds nobody comes back as an error on its own field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import Skill, Team, User
from frontdesk.conversations.models import Channel, Priority
from frontdesk.customers.forms import find_company
from frontdesk.customers.models import Company, Identity, IdentityKind
from frontdesk.customers.selectors import find_customers_by_email
from frontdesk.routing.models import AssignmentMode, RoutingRule
from frontdesk.routing.services import MAX_CAPACITY

_SPLIT = re.compile(r"[,\n]")

GROUPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (gettext_lazy("Rule"), ("name", "active")),
    (
        gettext_lazy("When a new conversation matches all of these"),
        (
            "channels",
            "mailbox_ids",
            "languages",
            "tags",
            "customers",
            "companies",
            "custom_fields",
            "keywords",
        ),
    ),  # fmt: skip
    (gettext_lazy("Then"), ("team", "priority", "add_tags", "skill")),
)


def _lines(value: str) -> list[str]:
    return [part.strip() for part in value.splitlines() if part.strip()]


def _items(value: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(value) if part.strip()]


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channel"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Any of these; none ticked means any channel."),
    )
    mailbox_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Mailbox"),
        coerce=int,
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Mail that came to any of these addresses."),
    )
    languages = forms.CharField(
        label=gettext_lazy("Language"),
        required=False,
        help_text=gettext_lazy(
            "Language codes such as th, pl, en, separated by commas: the conversation's "
            "language, else its customer's; text in Thai script counts as th."
        ),
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,
        help_text=gettext_lazy("Has any of these tags, separated by commas."),
    )
    customers = forms.CharField(
        label=gettext_lazy("Customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Email addresses of customers, one a line."),
    )
    companies = forms.CharField(
        label=gettext_lazy("Companies"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Company names, one a line."),
    )
    custom_fields = forms.CharField(
        label=gettext_lazy("Custom fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One field a line, as key = value: the field holds exactly that."),
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords in the subject or message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Any of these, one a line, in any language; case does not matter. Whole words "
            "match (refund finds refund, not refunded); end with * for any ending (zwrot* "
            "finds zwrotu). Thai is matched wherever it appears in the text, as Thai is "
            "written without spaces between words."
        ),
    )
    team = forms.TypedChoiceField(
        label=gettext_lazy("Set team"), coerce=int, empty_value=None, required=False, choices=()
    )
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Set priority"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "—"), *Priority.choices],
    )
    add_tags = forms.CharField(
        label=gettext_lazy("Add tags"),
        required=False,
        help_text=gettext_lazy("Separated by commas."),
    )
    skill = forms.TypedChoiceField(
        label=gettext_lazy("Prefer agents with skill"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=(),
        help_text=gettext_lazy(
            "Automatic assignment gives the conversation to an online agent with this skill "
            "when there is one, else to anyone with room."
        ),
    )

    def __init__(
        self, *args: Any, user: User, mailboxes: Sequence[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        mailbox_field = self.fields["mailbox_ids"]
        assert isinstance(mailbox_field, forms.ChoiceField)  # noqa: S101 - declared above
        mailbox_field.choices = list(mailboxes)
        if not mailboxes:
            del self.fields["mailbox_ids"]
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ChoiceField)  # noqa: S101 - declared above
        team_field.choices = [("", "—"), *Team.objects.order_by("name").values_list("id", "name")]
        skill_field = self.fields["skill"]
        assert isinstance(skill_field, forms.ChoiceField)  # noqa: S101 - declared above
        skill_field.choices = [
            ("", "—"), *Skill.objects.order_by("name").values_list("id", "name"),
        ]  # fmt: skip

    def groups(self) -> list[tuple[Promise, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in GROUPS
        ]

    def clean_customers(self) -> list[int]:
        emails = _lines(self.cleaned_data["customers"])
        found = find_customers_by_email(emails)
        for email in emails:
            if email not in found:
                raise forms.ValidationError(_("No customer has the address %(email)s.")
                                            % {"email": email})  # fmt: skip
        return [found[email].pk for email in emails]

    def clean_companies(self) -> list[int]:
        return [find_company(self.user, text).pk for text in _lines(self.cleaned_data["companies"])]

    def clean_custom_fields(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for line in _lines(self.cleaned_data["custom_fields"]):
            key, equals, value = line.partition("=")
            if not equals or not key.strip():
                raise forms.ValidationError(_("Write each field as key = value."))
            values[key.strip()] = value.strip()
        return values

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        team_id, skill_id = data["team"], data["skill"]
        return {
            "name": data["name"],
            "active": data["active"],
            "channels": list(data["channels"]),
            "mailbox_ids": list(data.get("mailbox_ids") or []),
            "languages": _items(data["languages"]),
            "tags": _items(data["tags"]),
            "customer_ids": data["customers"],
            "company_ids": data["companies"],
            "custom_fields": data["custom_fields"],
            "keywords": _lines(data["keywords"]),
            "team": Team.objects.filter(pk=team_id).first() if team_id is not None else None,
            "priority": data["priority"],
            "add_tags": _items(data["add_tags"]),
            "skill": Skill.objects.filter(pk=skill_id).first() if skill_id is not None else None,
        }

    @staticmethod
    def initial_for(rule: RoutingRule) -> dict[str, Any]:
        # The primary address of each customer: the first by this order, so set last.
        rows = Identity.objects.filter(
            customer_id__in=rule.customer_ids, kind=IdentityKind.EMAIL
        ).order_by("-is_primary", "id")
        emails = dict(list(rows.values_list("customer_id", "value"))[::-1])
        names = dict(Company.objects.filter(pk__in=rule.company_ids).values_list("id", "name"))
        return {
            "name": rule.name,
            "active": rule.active,
            "channels": rule.channels,
            "mailbox_ids": rule.mailbox_ids,
            "languages": ", ".join(rule.languages),
            "tags": ", ".join(rule.tags),
            "customers": "\n".join(emails[i] for i in rule.customer_ids if i in emails),
            "companies": "\n".join(names[i] for i in rule.company_ids if i in names),
            "custom_fields": "\n".join(f"{k} = {_shown(v)}" for k, v in rule.custom_fields.items()),
            "keywords": "\n".join(rule.keywords),
            "team": rule.team_id,
            "priority": rule.priority,
            "add_tags": ", ".join(rule.add_tags),
            "skill": rule.skill_id,
        }


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TeamAssignmentForm(forms.Form):
    """The team's mode and default, and one number field per member and channel."""

    mode = forms.ChoiceField(
        label=gettext_lazy("Assignment"),
        choices=AssignmentMode.choices,
        help_text=gettext_lazy(
            "Manual: agents take conversations themselves. Round-robin: each new one goes to "
            "the online agent who has waited longest for one. Least loaded: to the online "
            "agent with the fewest new and open conversations."
        ),
    )
    default_capacity = forms.IntegerField(
        label=gettext_lazy("Open conversations per agent and channel"),
        min_value=1,
        max_value=MAX_CAPACITY,
        help_text=gettext_lazy(
            "How many new and open conversations of one channel an agent holds before "
            "automatic assignment passes them by; set an agent's own below."
        ),
    )

    def __init__(
        self,
        *args: Any,
        members: Sequence[User] = (),
        capacities: dict[int, dict[str, int]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = list(members)
        capacities = capacities or {}
        for member in self.members:
            for channel, label in Channel.choices:
                name = self.cell_name(member.pk, channel)
                self.fields[name] = forms.IntegerField(
                    label=f"{member.display_name}: {label}",
                    min_value=0,
                    max_value=MAX_CAPACITY,
                    required=False,
                )
                self.initial.setdefault(name, capacities.get(member.pk, {}).get(channel))

    @staticmethod
    def cell_name(user_id: int, channel: str) -> str:
        return f"cap_{user_id}_{channel}"

    def rows(self) -> list[tuple[User, list[forms.BoundField]]]:
        return [
            (member, [self[self.cell_name(member.pk, channel)] for channel in Channel.values])
            for member in self.members
        ]

    def capacities(self) -> dict[tuple[int, str], int | None]:
        return {
            (member.pk, channel): self.cleaned_data[self.cell_name(member.pk, channel)]
            for member in self.members
            for channel in Channel.values
        }
