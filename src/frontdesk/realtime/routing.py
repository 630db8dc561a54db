"""Websocket routes, mounted by frontdesk.asgi behind origin checks and session auth."""

from __future__ import annotations

from django.urls import path

from frontdesk.realtime.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
