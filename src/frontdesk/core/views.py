"""The front door: sends each person to their side of Frontdesk."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if getattr(user, "is_customer", False):
        return redirect("portal:home")
    return redirect("conversations:inbox")
