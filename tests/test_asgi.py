"""The ASGI application serves Django through its whole middleware chain."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import async_to_sync

from frontdesk.asgi import SyncStackASGIHandler, application, django_asgi_app


async def _get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.get(path)


@pytest.mark.django_db(transaction=True)
def test_asgi_requests_pass_every_middleware() -> None:
    assert isinstance(django_asgi_app, SyncStackASGIHandler)
    response = async_to_sync(_get)("/login/")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"  # clickjacking middleware
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # security middleware
    assert "csrftoken" in response.headers.get("set-cookie", "")  # CSRF middleware
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.django_db(transaction=True)
def test_asgi_api_errors_stay_problem_json() -> None:
    response = async_to_sync(_get)("/api/v1/conversations")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
