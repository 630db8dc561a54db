"""Who gets in: bearer tokens, sessions with CSRF, and the limit on guessing tokens."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from frontdesk.accounts.models import ApiToken
from frontdesk.accounts.services import create_api_token, revoke_api_token
from tests.api.conftest import BASE, Api, assert_problem
from tests.conftest import Personas


def _body(response: Any) -> Any:
    return json.loads(response.content)


def test_request_without_credentials_is_a_401_problem(db: None) -> None:
    response = Api(None).get("/users/me")
    assert_problem(response, 401, slug="not-authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_authenticates_its_user(people: Personas) -> None:
    _token, raw = create_api_token(people.agent, by=people.agent)
    response = Api(raw).get("/users/me")
    assert response.status_code == 200
    assert _body(response)["email"] == "anna@example.com"


def test_unknown_token_is_a_401_problem(people: Personas) -> None:
    body = assert_problem(Api("fd_nope_nothing").get("/users/me"), 401)
    assert "token" in body["detail"]


def test_revoked_token_is_a_401_problem(people: Personas) -> None:
    token, raw = create_api_token(people.agent, by=people.agent)
    revoke_api_token(token, by=people.agent)
    assert_problem(Api(raw).get("/users/me"), 401)


def test_expired_token_is_a_401_problem(people: Personas) -> None:
    token, raw = create_api_token(people.agent, by=people.agent, expires_days=1)
    # No service moves a clock; the row is aged directly.
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(Api(raw).get("/users/me"), 401)


def test_token_of_a_deactivated_user_is_a_401_problem(people: Personas) -> None:
    _token, raw = create_api_token(people.agent, by=people.agent)
    people.agent.is_active = False
    people.agent.save(update_fields=["is_active"])
    assert_problem(Api(raw).get("/users/me"), 401)


def test_other_authorization_schemes_are_not_accepted(people: Personas) -> None:
    client = Client(headers={"Authorization": "Basic YW5uYTpwdw=="})
    assert_problem(client.get(f"{BASE}/users/me"), 401)  # type: ignore[arg-type]


def test_repeated_token_failures_are_limited_per_address(people: Personas, settings: Any) -> None:
    settings.API_AUTH_FAILURE_LIMIT = 3
    settings.API_AUTH_FAILURE_WINDOW_S = 60
    guesser = Client(headers={"Authorization": "Bearer fd_guess_1"}, REMOTE_ADDR="10.0.0.9")
    for _attempt in range(3):
        assert_problem(guesser.get(f"{BASE}/users/me"), 401)  # type: ignore[arg-type]

    blocked = guesser.get(f"{BASE}/users/me")
    assert_problem(blocked, 429, slug="too-many-requests")  # type: ignore[arg-type]
    assert 1 <= int(blocked["Retry-After"]) <= 60

    # Even a right token is not tried from a blocked address, so guessing cannot go on...
    _token, raw = create_api_token(people.agent, by=people.agent)
    right = Client(headers={"Authorization": f"Bearer {raw}"}, REMOTE_ADDR="10.0.0.9")
    assert_problem(right.get(f"{BASE}/users/me"), 429)  # type: ignore[arg-type]
    # ...while other addresses are not affected.
    elsewhere = Client(headers={"Authorization": f"Bearer {raw}"}, REMOTE_ADDR="10.0.0.10")
    assert elsewhere.get(f"{BASE}/users/me").status_code == 200


def test_failure_limit_lifts_after_the_window(people: Personas, settings: Any) -> None:
    settings.API_AUTH_FAILURE_LIMIT = 1
    settings.API_AUTH_FAILURE_WINDOW_S = 1
    _token, raw = create_api_token(people.agent, by=people.agent)
    assert_problem(Api("fd_guess_2").get("/users/me"), 401)
    assert_problem(Api(raw).get("/users/me"), 429)
    time.sleep(1.1)
    assert Api(raw).get("/users/me").status_code == 200


def test_successful_token_use_does_not_count_as_failure(people: Personas, settings: Any) -> None:
    settings.API_AUTH_FAILURE_LIMIT = 2
    _token, raw = create_api_token(people.agent, by=people.agent)
    for _attempt in range(5):
        assert Api(raw).get("/users/me").status_code == 200


# --- sessions --------------------------------------------------------------------------


def _session_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_session_reads_need_no_csrf_token(people: Personas) -> None:
    client = _session_client(people.agent)
    response = client.get(f"{BASE}/users/me")
    assert response.status_code == 200
    assert _body(response)["email"] == "anna@example.com"


def test_session_write_without_csrf_token_is_a_403_problem(people: Personas) -> None:
    client = _session_client(people.agent)
    response = client.post(
        f"{BASE}/customers", {"name": "No Token"}, content_type="application/json"
    )
    body = assert_problem(response, 403, slug="forbidden")  # type: ignore[arg-type]
    assert "CSRF" in body["detail"]


def test_session_write_with_csrf_token_succeeds(people: Personas) -> None:
    client = _session_client(people.agent)
    secret = get_random_string(32)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = secret
    response = client.post(
        f"{BASE}/customers",
        {"name": "With Token", "emails": ["with.token@example.net"]},
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert response.status_code == 201, response.content
    assert _body(response)["emails"] == ["with.token@example.net"]


def test_write_without_any_credentials_is_401_not_a_csrf_error(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{BASE}/customers", {}, content_type="application/json")
    assert_problem(response, 401)  # type: ignore[arg-type]


def test_token_requests_need_no_csrf_token(people: Personas) -> None:
    _token, raw = create_api_token(people.agent, by=people.agent)
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    response = client.post(
        f"{BASE}/customers", {"name": "Token Only"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content


def test_bad_token_is_refused_even_with_a_valid_session(people: Personas) -> None:
    client = Client(headers={"Authorization": "Bearer fd_wrong_token"})
    client.force_login(people.agent)
    assert_problem(client.get(f"{BASE}/users/me"), 401)  # type: ignore[arg-type]


def test_customer_signs_in_with_a_session_and_sees_only_themselves(people: Personas) -> None:
    client = _session_client(people.customer_user)
    assert _body(client.get(f"{BASE}/users/me"))["role"] == "customer"
    users = _body(client.get(f"{BASE}/users"))["items"]
    assert [u["email"] for u in users] == ["jana@acme.example"]
