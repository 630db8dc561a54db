"""Input checks shared by every app's services; refusals name the field."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from frontdesk.core.errors import InvalidInput


def clean_text(
    value: Any, *, field: str, max_length: int | None = None, required: bool = False
) -> str:
    """`value` stripped; refused when not text, required and empty, or over `max_length`."""
    if not isinstance(value, str):
        raise InvalidInput(_("Give this as text."), field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(_("This field is required."), field=field)
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(
            _("At most %(count)d characters, please.") % {"count": max_length}, field=field
        )
    return text
