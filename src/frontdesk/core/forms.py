"""What every form page does with a refused change: the service decides, the form shows why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from frontdesk.core.errors import ServiceError


def apply_service_error(
    form: forms.BaseForm, error: ServiceError, *, field: str | None = None
) -> None:
    """Show a refused change on the field it names, or on top of the form.

    `field` overrides the service's field name, for forms that call it differently.
    """
    name = error.field if field is None else field
    form.add_error(name if name in form.fields else None, error.detail)


def submit(form: forms.BaseForm, save: Callable[[dict[str, Any]], object]) -> bool:
    """Hand a valid bound form's data to `save` (one service call); True when it went through.

    An unbound or invalid form is left to show itself; a refusal lands on the form.
    """
    if not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except ServiceError as error:
        apply_service_error(form, error)
        return False
    return True
