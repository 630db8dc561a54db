"""API tokens: issued once, stored hashed, revocable, expiring, and cheap to use."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from frontdesk.accounts.events import ApiTokenCreated, ApiTokenRevoked
from frontdesk.accounts.models import ApiToken, User
from frontdesk.accounts.services import authenticate_token, create_api_token, revoke_api_token
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event
from tests.conftest import Personas
from tests.events import collected


def test_token_is_shown_once_and_stored_only_as_its_digest(people: Personas) -> None:
    token, raw = create_api_token(people.agent, by=people.agent, name=" CRM sync ")

    scheme, prefix, secret = raw.split("_", 2)
    assert (scheme, prefix) == ("fd", token.prefix)
    assert len(secret) >= 40
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.name == "CRM sync"
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert all(secret not in str(value) for value in stored.values())
    audit = Event.objects.get(action="api_token.created")
    assert secret not in str(audit.data)


def test_token_lifecycle_authenticates_until_revoked(people: Personas) -> None:
    token, raw = create_api_token(people.agent, by=people.agent)

    assert authenticate_token(raw) == people.agent

    revoked = revoke_api_token(token, by=people.agent)

    assert revoked.revoked_at is not None
    assert authenticate_token(raw) is None


def test_expired_token_no_longer_authenticates(people: Personas) -> None:
    token, raw = create_api_token(people.agent, by=people.agent, expires_days=30)
    assert token.expires_at is not None
    assert authenticate_token(raw) == people.agent

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert authenticate_token(raw) is None


def test_token_of_a_deactivated_user_no_longer_authenticates(people: Personas) -> None:
    _token, raw = create_api_token(people.agent, by=people.agent)
    User.objects.filter(pk=people.agent.pk).update(is_active=False)

    assert authenticate_token(raw) is None


@pytest.mark.parametrize(
    "raw", ["", "fd_", "fd_abcd1234_wrong", "Bearer fd_x_y", "fd_" + "x" * 500]
)
def test_unknown_or_malformed_tokens_do_not_authenticate(people: Personas, raw: str) -> None:
    create_api_token(people.agent, by=people.agent)

    assert authenticate_token(raw) is None


def test_last_used_is_bumped_at_most_once_a_minute(
    people: Personas, django_assert_num_queries: Any
) -> None:
    token, raw = create_api_token(people.agent, by=people.agent)
    assert token.last_used_at is None

    authenticate_token(raw)
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first_use is not None

    # Fresh within the minute: one read, no write at all.
    with django_assert_num_queries(1):
        authenticate_token(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use

    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=two_minutes_ago)
    authenticate_token(raw)
    bumped = ApiToken.objects.get(pk=token.pk).last_used_at
    assert bumped is not None
    assert bumped > two_minutes_ago + timedelta(minutes=1)


def test_create_api_token_announces_it_to_owner_and_creator(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(ApiTokenCreated) as seen, django_capture_on_commit_callbacks(execute=True):
        token, _raw = create_api_token(people.agent, by=people.admin)

    assert seen == [
        ApiTokenCreated(
            audience=Audience(user_ids=frozenset({people.agent.pk, people.admin.pk})),
            token_id=token.pk,
            user_id=people.agent.pk,
            prefix=token.prefix,
        )
    ]


def test_revoke_api_token_announces_it_once(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    token, _raw = create_api_token(people.agent, by=people.agent)

    with collected(ApiTokenRevoked) as seen, django_capture_on_commit_callbacks(execute=True):
        revoke_api_token(token, by=people.agent)
        again = revoke_api_token(token, by=people.agent)

    assert again.revoked_at is not None
    assert seen == [
        ApiTokenRevoked(
            audience=Audience(user_ids=frozenset({people.agent.pk})),
            token_id=token.pk,
            user_id=people.agent.pk,
            prefix=token.prefix,
        )
    ]
    assert Event.objects.filter(action="api_token.revoked").count() == 1


def test_agent_may_not_create_a_token_for_a_colleague(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        create_api_token(people.colleague, by=people.agent)

    assert not ApiToken.objects.exists()


def test_customer_may_not_create_tokens(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        create_api_token(people.customer_user, by=people.customer_user)

    assert not ApiToken.objects.exists()


def test_admin_may_not_issue_a_token_to_a_customer(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_api_token(people.customer_user, by=people.admin)

    assert refused.value.field == "user"


def test_agent_may_not_revoke_a_colleagues_token(people: Personas) -> None:
    token, raw = create_api_token(people.colleague, by=people.colleague)

    with pytest.raises(PermissionDenied):
        revoke_api_token(token, by=people.agent)

    assert authenticate_token(raw) == people.colleague


def test_admin_may_revoke_anyones_token(people: Personas) -> None:
    token, raw = create_api_token(people.colleague, by=people.colleague)

    revoke_api_token(token, by=people.admin)

    assert authenticate_token(raw) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expires_days": 0}, "expires_days"),
        ({"expires_days": 5000}, "expires_days"),
        ({"name": "n" * 101}, "name"),
    ],
)
def test_create_api_token_refuses_bad_input_naming_the_field(
    people: Personas, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_api_token(people.agent, by=people.agent, **changes)

    assert refused.value.field == field
    assert not ApiToken.objects.exists()
