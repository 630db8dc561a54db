"""A page that exists before its area is built, so every link in the shell resolves."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def placeholder(heading: str, section: str = "") -> Callable[..., HttpResponse]:
    @login_required
    def view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        return render(request, "core/placeholder.html", {"heading": heading, "section": section})

    return view
