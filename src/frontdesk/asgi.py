"""ASGI entry point: HTTP through Django; websockets through Channels (realtime app).

Websockets are accepted only from an Origin in ALLOWED_HOSTS (a page of another
site must not open one with the user's cookies) and carry the Django session's
user in `scope["user"]`.
"""

from __future__ import annotations

import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")


class SyncStackASGIHandler(ASGIHandler):
    """Django's ASGI handler, running the middleware chain and view in one thread hop.

    Every middleware Frontdesk uses is synchronous. Django's own ASGI handler
    runs each of them through `sync_to_async` one by one (two thread switches a
    middleware), which cost about 8 ms a request here; with no async views yet,
    the whole chain is run in the request's one worker thread instead.
    """

    def __init__(self) -> None:
        super(ASGIHandler, self).__init__()
        self.load_middleware(is_async=False)

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response


def _http_application() -> Any:
    django.setup(set_prefix=False)
    return SyncStackASGIHandler()


django_asgi_app = _http_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from frontdesk.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
