"""URLs of the portal pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from frontdesk.core.placeholders import placeholder

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", placeholder("Portal", ""), name="home"),
]
