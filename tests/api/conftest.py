"""Calling the API as the personas do: through the whole Django stack, with real tokens."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

from frontdesk.accounts.models import Team, User
from frontdesk.accounts.services import create_api_token
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation
from frontdesk.core.api_support import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from frontdesk.core.models import Via
from frontdesk.customers.models import Customer

BASE = "/api/v1"


class Api:
    """A client signed in with a bearer token; paths are relative to /api/v1."""

    def __init__(self, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.client = Client(headers=headers)

    def get(self, path: str, params: dict[str, Any] | None = None) -> HttpResponse:
        return self.client.get(BASE + path, params or {})  # type: ignore[return-value]

    def post(self, path: str, body: Any = None) -> HttpResponse:
        return self._send("post", path, body)

    def patch(self, path: str, body: Any = None) -> HttpResponse:
        return self._send("patch", path, body)

    def delete(self, path: str) -> HttpResponse:
        return self.client.delete(BASE + path)  # type: ignore[return-value]

    def _send(self, method: str, path: str, body: Any) -> HttpResponse:
        data = body if isinstance(body, str | bytes) else json.dumps(body or {})
        send = getattr(self.client, method)
        response: HttpResponse = send(BASE + path, data, content_type="application/json")
        return response


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # The auth-failure counter lives in the cache; no test inherits another's failures.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_as(db: None) -> Callable[[User], Api]:
    def make(user: User) -> Api:
        _token, raw = create_api_token(user, by=None, name="tests")
        return Api(raw)

    return make


def assert_problem(
    response: HttpResponse, status: int, *, field: str | None = None, slug: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and field, and type slug)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == status
    assert body["type"].startswith(PROBLEM_TYPE_BASE)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
        assert any(e["field"] == field for e in body["errors"]), body
    if slug is not None:
        assert body["type"] == PROBLEM_TYPE_BASE + slug
    return body


def open_conversation(
    customer: Customer,
    *,
    team: Team | None,
    subject: str = "Parcel never arrived",
    at: datetime | None = None,
    **extra: Any,
) -> Conversation:
    """A conversation as mail intake would open it (trusted system actor)."""
    return services.create_conversation(
        by=None,
        customer=customer,
        subject=subject,
        channel=extra.pop("channel", "email"),
        text=extra.pop("text", "Order 1042 was due on Monday and is still not here."),
        team=team,
        at=at,
        via=Via.EMAIL,
        **extra,
    )
