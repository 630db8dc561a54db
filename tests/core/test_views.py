from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_front_page_links_to_admin_and_api_docs(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/admin/"' in body
    assert 'href="/api/v1/docs"' in body
