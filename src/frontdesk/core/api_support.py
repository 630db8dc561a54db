"""What every API router shares: problem+json errors, authentication, rate limits, schemas.

Every error leaving /api/v1 is RFC 9457 application/problem+json, whatever raised
it: a service refusal, a pydantic validation error, a failed login, an unknown
route, a wrong method or a bug. Clients then need one error parser, and the
offending input field is always named in `field` when there is one.

This module sits in `core`, so it knows nothing of users or tokens: the API
root (frontdesk/api.py) hands the token check to `BearerTokenAuth`.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import ConfigDict

from frontdesk.core.errors import InvalidInput, ServiceError
from frontdesk.core.pagination import Page

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://frontdesk.invalid/problems/"

# Stable slugs (the last part of `type`) and titles for errors that do not come
# from a ServiceError, which brings its own.
_BY_STATUS: dict[int, tuple[str, Any]] = {
    400: ("malformed-request", gettext_lazy("Malformed request")),
    401: ("not-authenticated", gettext_lazy("Not authenticated")),
    403: ("forbidden", gettext_lazy("Forbidden")),
    404: ("not-found", gettext_lazy("Not found")),
    405: ("method-not-allowed", gettext_lazy("Method not allowed")),
    409: ("conflict", gettext_lazy("Conflict")),
    413: ("too-large", gettext_lazy("Request too large")),
    422: ("invalid-input", gettext_lazy("Invalid input")),
    429: ("too-many-requests", gettext_lazy("Too many requests")),
    500: ("server-error", gettext_lazy("Internal server error")),
}

# Where a validation error's location starts; the part after it is the field.
_PARAM_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})
# For these sources ninja puts the handler's parameter name next; clients never see it.
_NAMED_SOURCES = frozenset({"body", "form", "file"})


# --- problem+json ------------------------------------------------------------------------


def problem_type(slug: str) -> str:
    return f"{PROBLEM_TYPE_BASE}{slug}"


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    field: str | None = None,
    errors: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """An RFC 9457 response; `field` names the first offending input field, if any."""
    default_slug, default_title = _BY_STATUS.get(status, ("error", gettext_lazy("Error")))
    body: dict[str, Any] = {
        "type": problem_type(slug or default_slug),
        "title": str(title or default_title),
        "status": status,
        "detail": str(detail),
    }
    error_list = list(errors)
    if field is not None and not error_list:
        error_list = [{"field": field, "detail": str(detail)}]
    if error_list:
        body["field"] = field if field is not None else error_list[0]["field"]
        body["errors"] = error_list
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=f"{PROBLEM_CONTENT_TYPE}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class ProblemFieldError(Schema):
    field: str
    detail: str


class ProblemOut(Schema):
    """RFC 9457 problem details, as every error of this API is shaped."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[ProblemFieldError] | None = None


def field_from_loc(loc: Iterable[Any]) -> str:
    """`("body", "payload", "message", "text")` → `"message.text"`; the whole body → `"body"`."""
    parts = list(loc)
    source = None
    if parts and parts[0] in _PARAM_SOURCES:
        source = parts.pop(0)
        if source in _NAMED_SOURCES and parts:
            parts.pop(0)
    return ".".join(str(part) for part in parts) or (source or "")


def _validation_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    result = []
    for error in errors:
        detail = str(error.get("msg", _("Invalid value.")))
        if error.get("type") == "extra_forbidden":
            detail = _("Unknown field.")
        elif error.get("type") == "missing":
            detail = _("This field is required.")
        result.append({"field": field_from_loc(error.get("loc", ())), "detail": detail})
    return result


# --- exceptions raised by authentication ----------------------------------------------


class InvalidCredentials(AuthenticationError):
    """Credentials were presented and refused (as opposed to none at all)."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=401, message=message)


class TooManyAttempts(HttpError):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(429, _("Too many failed authentication attempts; try again later."))


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(
            403,
            _("CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header."),
        )


# --- the API class ---------------------------------------------------------------------


class ProblemAPI(NinjaAPI):
    """NinjaAPI whose every error, routing ones included, is problem+json."""

    def set_default_exception_handlers(self) -> None:
        self.add_exception_handler(Exception, exception_to_problem)

    def get_openapi_operation_id(self, operation: Any) -> str:
        # Handler names are unique across the routers: `list_conversations`, not a module path.
        return str(operation.view_func.__name__)

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_for_not_allowed(pattern.callback)
        # Last, so only paths no operation matched land here.
        patterns.append(re_path(r"^.*$", unknown_route, name="unknown-route"))
        return patterns, app_name, namespace

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = _problem_json_schema()
        error_response = {
            "description": "An RFC 9457 problem; `field` names the offending input field.",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                operation.setdefault("responses", {}).setdefault("default", error_response)
        return schema


def _problem_json_schema() -> dict[str, Any]:
    definition = ProblemOut.json_schema()
    field_error = definition.pop("$defs", {}).get("ProblemFieldError", {})
    definition["properties"]["errors"] = {
        "anyOf": [{"type": "array", "items": field_error}, {"type": "null"}],
        "title": "Errors",
    }
    return definition


def _problem_for_not_allowed(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response.get("Allow", "")
            return problem(
                405,
                _("%(method)s is not allowed here; allowed: %(allowed)s.")
                % {"method": request.method, "allowed": allowed},
                headers={"Allow": allowed},
            )
        return response

    # ninja checks CSRF itself, for session-authenticated calls only.
    return csrf_exempt(wrapper)


@csrf_exempt
def unknown_route(request: HttpRequest) -> HttpResponse:
    return problem(404, _("No API endpoint at %(path)s.") % {"path": request.path})


def exception_to_problem(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    """The one exception handler of the API: every exception becomes a problem document."""
    if isinstance(exc, ServiceError):
        return _service_error(request, exc)
    if isinstance(exc, ValidationError):
        return _validation_error(request, exc)
    if isinstance(exc, HttpError):
        return _http_error(request, exc)
    if isinstance(exc, Http404):
        return problem(404, _("Not found."))
    if isinstance(exc, DjangoPermissionDenied):
        return problem(403, str(exc) or _("You may not do this."))
    return _unexpected_error(request, exc)


def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return problem(exc.status, exc.detail, slug=exc.slug, field=exc.field)


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = _validation_errors(exc.errors)
    if not errors:
        return problem(422, _("The request is not valid."))
    first = errors[0]
    return problem(422, f"{first['field']}: {first['detail']}", errors=errors)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(math.ceil(exc.wait))
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="frontdesk"'
        detail = str(exc)
        if not isinstance(exc, InvalidCredentials):
            detail = _("Send an API token as 'Authorization: Bearer <token>' or sign in.")
        return problem(401, detail, headers=headers)
    return problem(exc.status_code, str(exc), headers=headers)


def _unexpected_error(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    # Logged in full for operators; the client learns nothing about the internals.
    error = exc if isinstance(exc, BaseException) else exc()
    logger.error("unhandled error in %s %s", request.method, request.path, exc_info=error)
    return problem(500, _("An unexpected error occurred; it has been logged."))


# --- authentication --------------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class AuthFailureLimiter:
    """Counts failed token checks per client address in a fixed window (Django's cache)."""

    def __init__(self, *, prefix: str = "api-auth-failures") -> None:
        self.prefix = prefix

    @property
    def limit(self) -> int:
        return int(settings.API_AUTH_FAILURE_LIMIT)

    @property
    def window_s(self) -> int:
        return int(settings.API_AUTH_FAILURE_WINDOW_S)

    def _keys(self, address: str) -> tuple[str, str]:
        return f"{self.prefix}:{address}:count", f"{self.prefix}:{address}:start"

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None when it is not blocked."""
        count_key, start_key = self._keys(address)
        values = cache.get_many([count_key, start_key])
        count = int(values.get(count_key) or 0)
        if count < self.limit:
            return None
        started = float(values.get(start_key) or time.time())
        return max(1, math.ceil(started + self.window_s - time.time()))

    def record_failure(self, address: str) -> None:
        count_key, start_key = self._keys(address)
        cache.add(start_key, time.time(), timeout=self.window_s)
        cache.add(count_key, 0, timeout=self.window_s)
        try:
            cache.incr(count_key)
        except ValueError:
            # The window expired between add() and incr(): this failure opens a new one.
            cache.set(count_key, 1, timeout=self.window_s)


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`, checked by the callable the API root provides."""

    def __init__(
        self, check_token: Callable[[str], Any | None], limiter: AuthFailureLimiter | None = None
    ) -> None:
        self.check_token = check_token
        self.limiter = limiter or AuthFailureLimiter()
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        address = client_address(request)
        # Checked before the token so a blocked client cannot keep guessing.
        wait = self.limiter.retry_after(address)
        if wait is not None:
            raise TooManyAttempts(wait)
        user = self.check_token(token.strip())
        if user is None:
            self.limiter.record_failure(address)
            raise InvalidCredentials(_("The API token is unknown, revoked or expired."))
        return user


class SessionCsrfAuth(APIKeyCookie):
    """Django's session login; unsafe methods must carry the CSRF token."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # The CSRF check runs in authenticate(), after we know there is a session user,
        # so a caller with no credentials at all gets 401 rather than a CSRF error.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = request.user
        if not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise CsrfFailed
        return user


# --- shared schemas --------------------------------------------------------------------


class Input(Schema):
    """Base for request bodies: a field the API does not know is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class CursorPageOut(Schema):
    """Base of every list response: `items` plus the cursor of the next page (null at the end)."""

    next_cursor: str | None


def patch_changes(payload: Schema, *, clearable: Collection[str] = ()) -> dict[str, Any]:
    """The fields a PATCH body sent, the others staying as they are; null only clears the
    fields in `clearable` and is refused for the rest."""
    changes = {key: getattr(payload, key) for key in payload.model_fields_set}
    for key, value in changes.items():
        if value is None and key not in clearable:
            raise InvalidInput(_("This field may not be null."), field=key)
    return changes


def page_response(page: Page[Any]) -> dict[str, Any]:
    """A core.pagination.Page as the `{"items", "next_cursor"}` body."""
    return {"items": page.items, "next_cursor": page.next_cursor}


@contextmanager
def fields_renamed(names: Mapping[str, str]) -> Iterator[None]:
    """Report a service's field names (`team`) as the request body spells them (`team_id`)."""
    try:
        yield
    except ServiceError as exc:
        if exc.field is not None:
            head, dot, rest = exc.field.partition(".")
            if head in names:
                exc.field = names[head] + dot + rest
        raise
