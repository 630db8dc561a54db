"""URLs of the conversations pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from frontdesk.core.placeholders import placeholder

app_name = "conversations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("inbox/", placeholder("Inbox", "inbox"), name="inbox"),
    path("inbox/rail/", placeholder("Rail", "inbox"), name="rail"),
    path("conversations/new/", placeholder("New conversation", "inbox"), name="new"),
]
