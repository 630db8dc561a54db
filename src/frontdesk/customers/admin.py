"""Django admin for customers and companies (admin role only, audited; see accounts.admin).

Identities and domains typed here go through the same normalisation as the
services, so a look-up by email, phone or domain finds what an admin entered.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.admin import FrontdeskModelAdmin, FrontdeskTabularInline
from frontdesk.core.errors import InvalidInput
from frontdesk.customers.models import Company, CompanyDomain, Customer, Identity, IdentityKind
from frontdesk.customers.normalize import normalize_domain, normalize_email, normalize_phone


def normalize_identity(kind: str, value: str) -> str:
    """The look-up key of an identity; chat and messaging ids are kept as given."""
    if kind == IdentityKind.EMAIL:
        return normalize_email(value, field="value")
    if kind == IdentityKind.PHONE:
        return normalize_phone(value, field="value")
    return value.strip()


class IdentityForm(forms.ModelForm[Identity]):
    class Meta:
        model = Identity
        fields = ("kind", "value", "is_primary")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value:
            try:
                normalized = normalize_identity(kind, value)
            except InvalidInput as exc:
                raise forms.ValidationError({"value": exc.detail}) from None
            clash = Identity.objects.filter(kind=kind, normalized=normalized).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                raise forms.ValidationError(
                    {"value": _("%(value)s belongs to another customer.") % {"value": value}}
                )
            cleaned["value"] = value.strip()
            self.instance.normalized = normalized
        return cleaned


class IdentityFormSet(forms.BaseInlineFormSet[Identity, Customer, forms.ModelForm[Identity]]):
    def clean(self) -> None:
        super().clean()
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            if not form.is_valid() or form.cleaned_data.get("DELETE"):
                continue
            key = (form.instance.kind, form.instance.normalized)
            if key[1] and key in seen:
                raise forms.ValidationError(_("The same identity is listed twice."))
            seen.add(key)


class IdentityInline(FrontdeskTabularInline[Identity, Customer]):
    model = Identity
    form = IdentityForm
    formset = IdentityFormSet
    fields = ("kind", "value", "is_primary")
    extra = 1


@admin.register(Customer)
class CustomerAdmin(FrontdeskModelAdmin[Customer]):
    fields = (
        "name",
        "company",
        "language",
        "time_zone",
        "external_id",
        "user",
        "notes",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("created_at", "updated_at")
    list_display = ("__str__", "primary_email", "company", "created_at")
    list_select_related = ("company",)
    search_fields = ("name", "identities__normalized", "external_id")
    autocomplete_fields = ("company",)
    raw_id_fields = ("user",)
    inlines = (IdentityInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        # primary_email reads the prefetched identities instead of a query per row.
        return super().get_queryset(request).prefetch_related("identities")

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


class CompanyDomainForm(forms.ModelForm[CompanyDomain]):
    class Meta:
        model = CompanyDomain
        fields = ("domain",)

    def clean_domain(self) -> str:
        try:
            return normalize_domain(self.cleaned_data.get("domain", ""), field="domain")
        except InvalidInput as exc:
            raise forms.ValidationError(exc.detail) from None


class CompanyDomainInline(FrontdeskTabularInline[CompanyDomain, Company]):
    model = CompanyDomain
    form = CompanyDomainForm
    extra = 1


@admin.register(Company)
class CompanyAdmin(FrontdeskModelAdmin[Company]):
    fields = ("name", "members_see_all", "notes", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")
    list_display = ("name", "members_see_all", "created_at")
    list_filter = ("members_see_all",)
    search_fields = ("name", "domains__domain")
    inlines = (CompanyDomainInline,)

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
