"""Forms of the customer and company pages: they parse what was typed; services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import User
from frontdesk.customers.models import Company, CompanyDomain, Customer, IdentityKind
from frontdesk.customers.selectors import visible_companies


def _lines(value: str) -> list[str]:
    """One value a line (commas too), blanks dropped: the services normalise and check each."""
    return [part.strip() for part in value.replace(",", "\n").splitlines() if part.strip()]


class CustomerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    emails = forms.CharField(
        label=gettext_lazy("Email addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One a line; the first is the primary address."),
    )
    phones = forms.CharField(
        label=gettext_lazy("Phone numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One a line; the first is the primary number."),
    )
    company = forms.CharField(
        label=gettext_lazy("Company"),
        required=False,
        help_text=gettext_lazy("The company's name or one of its email domains; empty for none."),
    )
    language = forms.CharField(label=gettext_lazy("Language"), required=False)
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy("Such as Europe/Prague."),
    )
    external_id = forms.CharField(label=gettext_lazy("External id"), required=False)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, str]:
        identities = list(customer.identities.all())
        return {
            "name": customer.name,
            "emails": "\n".join(i.value for i in identities if i.kind == IdentityKind.EMAIL),
            "phones": "\n".join(i.value for i in identities if i.kind == IdentityKind.PHONE),
            "company": customer.company.name if customer.company else "",
            "language": customer.language,
            "time_zone": customer.time_zone,
            "external_id": customer.external_id,
            "notes": customer.notes,
        }

    def clean_company(self) -> Company | None:
        text = str(self.cleaned_data.get("company") or "").strip()
        if not text:
            return None
        return find_company(self.user, text)

    def changes(self) -> dict[str, Any]:
        """Keyword arguments for `update_customer`: every field, as the service takes it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "emails": _lines(data["emails"]),
            "phones": _lines(data["phones"]),
            "company": data["company"],
            "language": data["language"],
            "time_zone": data["time_zone"],
            "external_id": data["external_id"],
            "notes": data["notes"],
        }


def find_company(user: User, text: str) -> Company:
    """The one company with this domain or this name (any case); a field error otherwise.

    A domain is unique, so it is tried first; names may repeat, and then the
    domain is the way to say which one.
    """
    companies = visible_companies(user)
    domain = CompanyDomain.objects.filter(
        domain=text.lower().lstrip("@"), company__in=companies
    ).select_related("company")
    for row in domain:
        return row.company
    named = list(companies.filter(name__iexact=text)[:2])
    if not named:
        raise forms.ValidationError(_("There is no company %(name)s.") % {"name": text})
    if len(named) > 1:
        raise forms.ValidationError(
            _("Several companies are called %(name)s; type one of its email domains instead.")
            % {"name": text}
        )
    return named[0]


class CompanyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    domains = forms.CharField(
        label=gettext_lazy("Email domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One a line; new senders from these domains join the company."),
    )
    members_see_all = forms.BooleanField(
        label=gettext_lazy("Members see the company's conversations"),
        required=False,
        help_text=gettext_lazy(
            "Customers of this company may follow each other's requests in the portal."
        ),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    @classmethod
    def initial_for(cls, company: Company) -> dict[str, Any]:
        return {
            "name": company.name,
            "domains": "\n".join(d.domain for d in company.domains.all()),
            "members_see_all": company.members_see_all,
            "notes": company.notes,
        }

    def changes(self) -> dict[str, Any]:
        """Keyword arguments for `update_company`."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "domains": _lines(data["domains"]),
            "members_see_all": data["members_see_all"],
            "notes": data["notes"],
        }
