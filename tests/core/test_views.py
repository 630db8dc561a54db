from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Personas


@pytest.mark.django_db
def test_front_door_sends_strangers_to_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


@pytest.mark.django_db
def test_front_door_sends_staff_to_the_inbox(client: Client, people: Personas) -> None:
    client.force_login(people.agent)
    response = client.get("/")
    assert response["Location"] == "/inbox/"


@pytest.mark.django_db
def test_front_door_sends_customers_to_the_portal(client: Client, people: Personas) -> None:
    client.force_login(people.customer_user)
    response = client.get("/")
    assert response["Location"] == "/portal/"


@pytest.mark.django_db
def test_html_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_responses_report_server_time(client: Client) -> None:
    response = client.get("/login/")
    name, duration = response["Server-Timing"].split(";dur=")
    assert name == "app"
    assert float(duration) > 0
