"""Form pieces rendered in Python where Django's widget templates are too slow.

A select of every agent has hundreds of options; Django renders each option
through its own template, which made the inbox page several times slower than
its database queries. `{{ form.field|options }}` writes the same markup directly.
"""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

SELECTED = mark_safe(" selected")  # noqa: S308 - a constant attribute, no user data


@register.filter
def options(field: BoundField) -> SafeString:
    """The <option> elements of a choice field, the bound value selected."""
    value = field.value()
    current = "" if value is None else str(value)
    choices = getattr(field.field, "choices", ())
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((key, SELECTED if str(key) == current else "", label) for key, label in choices),
    )
