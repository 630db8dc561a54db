"""Pure checks and clean-ups of what callers hand to the conversation services.

Nothing here writes; services.py calls these before it opens a transaction,
so bad input is refused before anything is touched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.conversations.models import CustomFieldDefinition, FieldKind
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.html import html_to_text, sanitize_html

MAX_SUBJECT = 500
MAX_TEXT_FIELD = 10_000
MAX_TAG = 64
FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TAG_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Upload:
    """An attachment as received; its type is sniffed from the bytes, never trusted."""

    filename: str
    content: bytes
    # An email part's Content-ID (without <>), which "cid:" URLs in the message's HTML name.
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class StoredUpload:
    """An upload already checked and written to storage (`services.store_uploads`).

    Services take these as they take uploads; a caller that holds a transaction of its
    own stores its uploads first, so no file is written while its row locks are held.
    """

    filename: str
    name: str  # the storage name, content-addressed
    size: int
    sha256: str
    content_type: str
    content_id: str = ""
    inline: bool = False


def check_choice(value: object, allowed: Sequence[object], field: str) -> None:
    if value not in allowed:
        raise InvalidInput(
            _("%(value)s is not one of: %(allowed)s.")
            % {"value": value, "allowed": ", ".join(str(a) for a in allowed)},
            field=field,
        )


def clean_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        raise InvalidInput(_("A subject is required."), field="subject")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(
            _("The subject is longer than %(max)d characters.") % {"max": MAX_SUBJECT},
            field="subject",
        )
    return subject


def clean_body(
    text: str, html: str, attachments: Sequence[Upload | StoredUpload]
) -> tuple[str, str]:
    """The text and sanitised HTML; the files themselves are checked by `store_uploads`."""
    clean_html = sanitize_html(html) if html else ""
    text = text.strip()
    if not text and clean_html:
        text = html_to_text(clean_html)
    if not text and not attachments:
        raise InvalidInput(_("The message is empty."), field="text")
    return text, clean_html


def check_upload(upload: Upload) -> None:
    limit = settings.MAX_ATTACHMENT_BYTES
    if len(upload.content) > limit:
        raise InvalidInput(
            _("%(name)s is larger than %(mb)d MB.")
            % {"name": upload.filename, "mb": limit // (1024 * 1024)},
            field="attachments",
        )
    if not upload.filename.strip():
        raise InvalidInput(_("An attachment needs a file name."), field="attachments")


def sniff_content_type(content: bytes) -> str:
    kind = filetype.guess(content)
    if kind is not None:
        return str(kind.mime)
    try:
        content[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def clean_tags(tags: Sequence[str]) -> list[str]:
    if isinstance(tags, str):
        raise InvalidInput(_("Tags must be a list."), field="tags")
    names: list[str] = []
    for raw in tags:
        name = _TAG_SPACES.sub("-", str(raw).strip().lower())
        if not name:
            raise InvalidInput(_("A tag cannot be empty."), field="tags")
        if len(name) > MAX_TAG or "," in name:
            raise InvalidInput(
                _("%(tag)s is not a valid tag (no commas, at most %(max)d characters).")
                % {"tag": name, "max": MAX_TAG},
                field="tags",
            )
        if name not in names:
            names.append(name)
    return names


def clean_choices(kind: str, choices: Any) -> list[str]:
    if kind != FieldKind.CHOICE:
        if choices:
            raise InvalidInput(_("Only choice fields have choices."), field="choices")
        return []
    if isinstance(choices, str) or not isinstance(choices, Sequence):
        raise InvalidInput(_("Choices must be a list."), field="choices")
    cleaned = [str(c).strip() for c in choices if str(c).strip()]
    if not cleaned:
        raise InvalidInput(_("A choice field needs at least one choice."), field="choices")
    if len(set(cleaned)) != len(cleaned):
        raise InvalidInput(_("Choices must be distinct."), field="choices")
    return cleaned


def clean_field_values(
    values: Mapping[str, Any],
    definitions: Mapping[str, CustomFieldDefinition],
    by: User | None,
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        field = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None or not definition.active:
            raise InvalidInput(_("There is no field %(key)s.") % {"key": key}, field=field)
        if by is not None and by.is_customer and not definition.visible_to_customers:
            raise PermissionDenied(_("This field is not yours to set."), field=field)
        cleaned[key] = None if value is None else clean_field_value(definition, value, field)
    return cleaned


def _clean_text_value(definition: CustomFieldDefinition, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("Enter text."), field=field)
    if len(value) > MAX_TEXT_FIELD:
        raise InvalidInput(_("The text is too long."), field=field)
    return value.strip()


def _clean_number_value(definition: CustomFieldDefinition, value: Any, field: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(_("Enter a number."), field=field)
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(_("Enter a number."), field=field) from None
    if not math.isfinite(number):
        raise InvalidInput(_("Enter a number."), field=field)
    return int(number) if number.is_integer() else number


def _clean_date_value(definition: CustomFieldDefinition, value: Any, field: str) -> str:
    if isinstance(value, datetime):
        raise InvalidInput(_("Enter a date (YYYY-MM-DD)."), field=field)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InvalidInput(_("Enter a date (YYYY-MM-DD)."), field=field) from None


def _clean_choice_value(definition: CustomFieldDefinition, value: Any, field: str) -> str:
    if value not in definition.choices:
        raise InvalidInput(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(definition.choices)},
            field=field,
        )
    return str(value)


def _clean_checkbox_value(definition: CustomFieldDefinition, value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("Enter true or false."), field=field)
    return value


_FIELD_CLEANERS: dict[str, Callable[[CustomFieldDefinition, Any, str], Any]] = {
    FieldKind.TEXT: _clean_text_value,
    FieldKind.NUMBER: _clean_number_value,
    FieldKind.DATE: _clean_date_value,
    FieldKind.CHOICE: _clean_choice_value,
    FieldKind.CHECKBOX: _clean_checkbox_value,
}


def clean_field_value(definition: CustomFieldDefinition, value: Any, field: str) -> Any:
    return _FIELD_CLEANERS[definition.kind](definition, value, field)
