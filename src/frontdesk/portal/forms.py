"""Portal forms: they parse what the customer sent; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.forms import SignInForm
from frontdesk.conversations.models import CustomFieldDefinition, FieldKind
from frontdesk.conversations.services import Upload
from frontdesk.core import forms as core_forms
from frontdesk.core.errors import ServiceError

FIELD_PREFIX = "cf_"


def apply_service_error(form: forms.BaseForm, error: ServiceError) -> None:
    """As core's, with the service's custom_fields.<key> named as this form's cf_<key>."""
    name = error.field or ""
    if name.startswith("custom_fields."):
        name = FIELD_PREFIX + name.removeprefix("custom_fields.")
    core_forms.apply_service_error(form, error, field=name)


class PortalSignInForm(SignInForm):
    """The staff sign-in form (lockout included), labelled for customers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True}
        )


class SignInLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class SignUpForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email"), max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def uploads(files: list[UploadedFile[Any]]) -> list[Upload]:
    """The files as service uploads.

    A file over the limit is read only one byte past it: enough for the
    service to refuse it with its own message, without holding all of it.
    """
    limit = settings.MAX_ATTACHMENT_BYTES
    result = []
    for f in files:
        f.seek(0)
        result.append(Upload(filename=f.name or "", content=f.read(limit + 1)))
    return result


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(label=_("Attachments"))


def _custom_field(definition: CustomFieldDefinition) -> forms.Field:
    label = definition.label
    if definition.kind == FieldKind.NUMBER:
        return forms.DecimalField(label=label, required=False)
    if definition.kind == FieldKind.DATE:
        return forms.DateField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    if definition.kind == FieldKind.CHOICE:
        choices = [("", "—"), *((c, c) for c in definition.choices)]
        return forms.ChoiceField(label=label, required=False, choices=choices)
    if definition.kind == FieldKind.CHECKBOX:
        return forms.BooleanField(label=label, required=False)
    return forms.CharField(label=label, required=False, max_length=10_000)


class RequestForm(forms.Form):
    """A new request. Only fields shown to customers exist here, so no other can be posted."""

    subject = forms.CharField(label=_("Subject"), max_length=500, required=False)
    text = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, definitions: list[CustomFieldDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        for definition in definitions:
            self.fields[FIELD_PREFIX + definition.key] = _custom_field(definition)
        self.order_fields([name for name in self.fields if name != "attachments"])

    def custom_fields(self) -> list[forms.BoundField]:
        return [self[FIELD_PREFIX + d.key] for d in self.definitions]

    def field_values(self) -> dict[str, Any]:
        """Values the customer gave, by key, as the service takes them; blanks left out."""
        values: dict[str, Any] = {}
        for definition in self.definitions:
            value = self.cleaned_data.get(FIELD_PREFIX + definition.key)
            if value is None or value == "" or value is False:
                continue
            if definition.kind == FieldKind.NUMBER:
                value = str(value)
            elif definition.kind == FieldKind.DATE:
                value = value.isoformat()
            values[definition.key] = value
        return values
