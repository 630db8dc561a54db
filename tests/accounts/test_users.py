"""create_user: who may add people, what is checked, and what it announces."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.events import UserCreated
from frontdesk.accounts.models import Membership, Role, User
from frontdesk.accounts.services import create_user
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event, Via
from tests.conftest import Personas
from tests.events import collected


def test_admin_creates_agent_in_teams_with_languages(people: Personas) -> None:
    user = create_user(
        by=people.admin,
        email="  Nina@Example.COM ",
        password="a long enough passphrase",
        first_name="Nina",
        teams=[people.orders, people.billing],
        languages=["EN", "cs", "pt_BR", "cs"],
        via=Via.WEB,
    )

    assert user.email == "nina@example.com"
    assert user.username == "nina@example.com"
    assert user.role == Role.AGENT
    assert user.languages == ["en", "cs", "pt-br"]
    assert user.check_password("a long enough passphrase")
    assert not user.is_staff
    assert set(user.teams.all()) == {people.orders, people.billing}
    audit = Event.objects.get(object_type="user", object_id=user.pk)
    assert (audit.action, audit.actor_id, audit.via) == ("user.created", people.admin.pk, "web")


def test_admin_role_may_open_the_django_admin_site(people: Personas) -> None:
    boss = create_user(by=people.admin, email="boss@example.com", role=Role.ADMIN)

    assert boss.is_staff
    assert boss.is_admin


def test_user_without_password_cannot_sign_in_until_one_is_set(people: Personas) -> None:
    user = create_user(by=None, email="later@example.com")

    assert not user.has_usable_password()


def test_create_user_publishes_user_created_for_the_user_and_teams(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        collected(UserCreated) as seen,
        django_capture_on_commit_callbacks(execute=True),
    ):
        user = create_user(by=people.admin, email="new@example.com", teams=[people.billing])

    assert seen == [
        UserCreated(
            audience=Audience(
                user_ids=frozenset({user.pk}), team_ids=frozenset({people.billing.pk})
            ),
            user_id=user.pk,
            role=Role.AGENT,
            team_ids=(people.billing.pk,),
        )
    ]


@pytest.mark.parametrize("persona", ["supervisor", "agent", "customer_user"])
def test_only_admins_create_users(people: Personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        create_user(by=getattr(people, persona), email="x@example.com")

    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "ANNA@example.com"}, "email"),
        ({"role": "overlord"}, "role"),
        ({"password": "123"}, "password"),
        ({"languages": ["english!"]}, "languages"),
        ({"languages": "en"}, "languages"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"role": Role.CUSTOMER, "sees_all_teams": True}, "teams"),
    ],
)
def test_create_user_refuses_bad_input_naming_the_field(
    people: Personas, changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"email": "fresh@example.com", **changes}
    before = User.objects.count()

    with pytest.raises(InvalidInput) as refused:
        create_user(by=people.admin, **arguments)

    assert refused.value.field == field
    assert User.objects.count() == before


def test_create_user_leaves_nothing_when_the_audit_write_fails(
    people: Personas, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("frontdesk.accounts.services.record_event", broken)

    with (
        collected(UserCreated) as seen,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        create_user(by=people.admin, email="ghost@example.com", teams=[people.orders])

    assert not User.objects.filter(email="ghost@example.com").exists()
    assert not Membership.objects.filter(user__email="ghost@example.com").exists()
    assert seen == []
