"""Per-request preferences (language, time zone) and the security headers of HTML pages."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone, translation

Handler = Callable[[HttpRequest], HttpResponseBase]

SUPPORTED_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)

# Scripts and styles come only from our own static files: no inline code, no
# eval (htmx is configured with allowEval false), so injected markup cannot run.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def activate_preferences(request: HttpRequest, *, language: str, time_zone: str) -> None:
    """Serve this request in `language` and `time_zone` when they are valid; else keep what
    the browser asked for and UTC. The portal calls it with the customer's profile."""
    if language in SUPPORTED_LANGUAGES:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    zone = _zone(time_zone)
    if zone is not None:
        timezone.activate(zone)
    else:
        timezone.deactivate()


class UserPreferencesMiddleware:
    """Signed-in people see their own language and time zone.

    Runs after LocaleMiddleware and authentication: a language chosen in the
    profile wins over the browser's; without one the browser's choice (or the
    switcher's cookie) stands.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            activate_preferences(
                request,
                language=getattr(user, "language", ""),
                time_zone=getattr(user, "time_zone", ""),
            )
        else:
            timezone.deactivate()
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Adds the CSP and a strict referrer policy to every HTML response."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


class ServerTimingMiddleware:
    """Reports the time Django spent on a request in a Server-Timing header.

    Browsers' developer tools show it, and the benchmark reads it to separate
    server time from the client's and the network's.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response
