"""Workspace pages: manage custom fields and tags (admins only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontdesk.accounts.decorators import acting_user, admin_required, or_404
from frontdesk.conversations import selectors, services
from frontdesk.conversations.models import CustomFieldDefinition, FieldKind
from frontdesk.conversations.validation import MAX_TAG
from frontdesk.core.errors import ServiceError
from frontdesk.core.forms import submit
from frontdesk.core.models import Via


class FieldDefinitionForm(forms.Form):
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=64,
        help_text=gettext_lazy(
            "Used in the API and automations; lower-case letters, digits and underscores. "
            "It cannot be changed later."
        ),
    )
    label = forms.CharField(label=gettext_lazy("Label"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=FieldKind.choices,
        help_text=gettext_lazy("It cannot be changed later."),
    )
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For choice fields: one choice a line."),
    )
    required_to_solve = forms.BooleanField(
        label=gettext_lazy("Required before a conversation can be solved"), required=False
    )
    visible_to_customers = forms.BooleanField(
        label=gettext_lazy("Visible to customers in the portal"), required=False
    )
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=0,
        initial=0,
        help_text=gettext_lazy("Fields are shown in ascending order."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, definition: CustomFieldDefinition | None = None, **kw: Any):
        super().__init__(*args, **kw)
        if definition is None:
            del self.fields["active"]
        else:
            # Stored values are read by key and kind; they stay as they were created.
            del self.fields["key"]
            del self.fields["kind"]

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("choices", "").splitlines()]


class TagForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=MAX_TAG)


def _page(
    request: HttpRequest, template: str, page: str, context: dict[str, Any]
) -> HttpResponseBase:
    return render(request, template, {"section": "manage", "manage_page": page, **context})


# --- fields -----------------------------------------------------------------


@admin_required
def manage_fields(request: HttpRequest) -> HttpResponseBase:
    definitions = selectors.list_field_definitions(acting_user(request))
    return _page(
        request, "conversations/manage_fields.html", "fields", {"definitions": definitions}
    )


@admin_required
def manage_field_new(request: HttpRequest) -> HttpResponseBase:
    form = FieldDefinitionForm(request.POST or None)
    if submit(
        form,
        lambda data: services.create_field_definition(
            by=acting_user(request),
            key=data["key"],
            label=data["label"],
            kind=data["kind"],
            choices=form.choice_list(),
            required_to_solve=data["required_to_solve"],
            visible_to_customers=data["visible_to_customers"],
            position=data["position"],
            via=Via.WEB,
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("conversations:manage_fields")
    return _page(
        request,
        "conversations/manage_field_form.html",
        "fields",
        {"form": form, "definition": None},
    )


@admin_required
def manage_field_edit(request: HttpRequest, key: str) -> HttpResponseBase:
    admin = acting_user(request)
    definition = or_404(lambda: selectors.access_field_definition(admin, key))
    if request.method == "POST":
        form = FieldDefinitionForm(request.POST, definition=definition)
    else:
        form = FieldDefinitionForm(
            definition=definition,
            initial={
                "label": definition.label,
                "choices": "\n".join(definition.choices),
                "required_to_solve": definition.required_to_solve,
                "visible_to_customers": definition.visible_to_customers,
                "position": definition.position,
                "active": definition.active,
            },
        )
    if submit(
        form,
        lambda data: services.update_field_definition(
            definition,
            by=admin,
            via=Via.WEB,
            label=data["label"],
            choices=form.choice_list(),
            required_to_solve=data["required_to_solve"],
            visible_to_customers=data["visible_to_customers"],
            position=data["position"],
            active=data["active"],
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("conversations:manage_fields")
    return _page(
        request,
        "conversations/manage_field_form.html",
        "fields",
        {"form": form, "definition": definition},
    )


@require_POST
@admin_required
def manage_field_active(request: HttpRequest, key: str) -> HttpResponseBase:
    admin = acting_user(request)
    definition = or_404(lambda: selectors.access_field_definition(admin, key))
    active = request.POST.get("active") == "1"
    try:
        services.update_field_definition(definition, by=admin, via=Via.WEB, active=active)
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Saved."))
    return redirect("conversations:manage_fields")


# --- tags -------------------------------------------------------------------


@admin_required
def manage_tags(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = TagForm(request.POST or None)
    if submit(form, lambda data: services.create_tag(by=admin, name=data["name"], via=Via.WEB)):
        messages.success(request, _("Saved."))
        return redirect("conversations:manage_tags")
    tags = selectors.list_tags_with_usage(admin)
    return _page(request, "conversations/manage_tags.html", "tags", {"form": form, "tags": tags})


@require_POST
@admin_required
def manage_tag_rename(request: HttpRequest, tag_id: int) -> HttpResponseBase:
    admin = acting_user(request)
    tag = or_404(lambda: selectors.access_tag(admin, tag_id))
    form = TagForm(request.POST)
    if submit(
        form, lambda data: services.rename_tag(tag, by=admin, name=data["name"], via=Via.WEB)
    ):
        messages.success(request, _("Saved."))
        return redirect("conversations:manage_tags")
    # The error shows next to the tag's own row; the create form stays empty.
    context = {
        "form": TagForm(),
        "tags": selectors.list_tags_with_usage(admin),
        "rename_form": form,
        "rename_id": tag.pk,
    }
    response = _page(request, "conversations/manage_tags.html", "tags", context)
    response.status_code = 422
    return response


@require_POST
@admin_required
def manage_tag_delete(request: HttpRequest, tag_id: int) -> HttpResponseBase:
    admin = acting_user(request)
    tag = or_404(lambda: selectors.access_tag(admin, tag_id))
    services.delete_tag(tag, by=admin, via=Via.WEB)
    messages.success(request, _("Tag %(name)s was deleted.") % {"name": tag.name})
    return redirect("conversations:manage_tags")


urls: list[URLPattern] = [
    path("manage/fields/", manage_fields, name="manage_fields"),
    path("manage/fields/new/", manage_field_new, name="manage_field_new"),
    path("manage/fields/<slug:key>/edit/", manage_field_edit, name="manage_field"),
    path("manage/fields/<slug:key>/active/", manage_field_active, name="manage_field_active"),
    path("manage/tags/", manage_tags, name="manage_tags"),
    path("manage/tags/<int:tag_id>/rename/", manage_tag_rename, name="manage_tag_rename"),
    path("manage/tags/<int:tag_id>/delete/", manage_tag_delete, name="manage_tag_delete"),
]
