"""Who may open which workspace page; the services check again on every change."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.core.errors import NotFound

V = TypeVar("V", bound=Callable[..., HttpResponseBase])
T = TypeVar("T")


def staff_required(view: V) -> V:
    """Signed-in staff; a customer who wanders in is sent to the portal."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if isinstance(user, User) and user.is_customer:
            return redirect("portal:home")
        if not (isinstance(user, User) and is_staff_member(user)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return cast(V, login_required(wrapped))


def staff_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """As staff_required, and the view gets the signed-in user after the request;
    what a selector says the user may not see (NotFound) becomes a 404 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, acting_user(request), *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from None

    return staff_required(wrapped)


def admin_required(view: V) -> V:
    """The Manage pages: admins only, everyone else signed in gets 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (isinstance(user, User) and user.is_active and user.is_admin):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return cast(V, login_required(wrapped))


def acting_user(request: HttpRequest) -> User:
    """The signed-in person, typed; call only behind one of the decorators above."""
    assert isinstance(request.user, User)  # noqa: S101 - the decorators guarantee it
    return request.user


def or_404(read: Callable[[], T]) -> T:
    """Run a selector; what it says the user may not see becomes a 404 page."""
    try:
        return read()
    except NotFound as error:
        raise Http404(error.detail) from None
