"""update_user, set_user_active, update_preferences and update_team: rules, audit and events."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.events import (
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamUpdated,
    UserActiveChanged,
    UserUpdated,
)
from frontdesk.accounts.models import Membership, Presence, Role, Team, User
from frontdesk.accounts.services import (
    authenticate_token,
    create_api_token,
    set_user_active,
    update_preferences,
    update_team,
    update_user,
)
from frontdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from frontdesk.core.models import Event, Via
from tests.conftest import Personas
from tests.events import collected

# --- update_user ------------------------------------------------------------------------------


def test_admin_changes_role_teams_skills_and_languages(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        user = update_user(
            people.agent,
            by=people.admin,
            role=Role.SUPERVISOR,
            teams=[people.billing],
            skills=["Refunds", "german", "refunds"],
            languages=["DE", "en"],
            sees_all_teams=True,
            via=Via.WEB,
        )

    assert user.role == Role.SUPERVISOR
    assert user.sees_all_teams
    assert user.languages == ["de", "en"]
    assert sorted(s.name for s in user.skills.all()) == ["Refunds", "german"]
    assert set(user.teams.all()) == {people.billing}
    audit = Event.objects.get(action="user.updated", object_id=user.pk)
    assert audit.actor_id == people.admin.pk
    assert audit.data["teams"] == {"added": [people.billing.pk], "removed": [people.orders.pk]}
    kinds = [type(event) for event in seen]
    assert UserUpdated in kinds
    assert TeamMemberAdded in kinds
    assert TeamMemberRemoved in kinds
    updated = next(e for e in seen if isinstance(e, UserUpdated))
    assert updated.fields == ("languages", "role", "sees_all_teams", "skills", "teams")


def test_promoting_to_admin_opens_the_django_admin_site(people: Personas) -> None:
    user = update_user(people.agent, by=people.admin, role=Role.ADMIN)

    assert user.is_staff


def test_nothing_changed_writes_no_audit_row(people: Personas) -> None:
    update_user(people.agent, by=people.admin, role=Role.AGENT, teams=[people.orders])

    assert not Event.objects.filter(action="user.updated").exists()


def test_agents_may_not_change_users(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        update_user(people.colleague, by=people.supervisor, role=Role.ADMIN)


def test_unknown_role_is_refused_on_the_role_field(people: Personas) -> None:
    with pytest.raises(InvalidInput) as caught:
        update_user(people.agent, by=people.admin, role="boss")

    assert caught.value.field == "role"


def test_staff_cannot_become_a_customer(people: Personas) -> None:
    with pytest.raises(InvalidInput) as caught:
        update_user(people.agent, by=people.admin, role=Role.CUSTOMER)

    assert caught.value.field == "role"
    people.agent.refresh_from_db()
    assert people.agent.role == Role.AGENT


def test_the_last_admin_cannot_be_demoted(people: Personas) -> None:
    with pytest.raises(Conflict) as caught:
        update_user(people.admin, by=people.admin, role=Role.AGENT)

    assert caught.value.field == "role"


# --- set_user_active ------------------------------------------------------------------------


def test_deactivated_user_keeps_their_row_and_loses_token_access(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    _token, raw = create_api_token(people.agent, by=people.agent)
    people.agent.presence = Presence.ONLINE
    people.agent.save()

    with collected(UserActiveChanged) as seen, django_capture_on_commit_callbacks(execute=True):
        user = set_user_active(people.agent, by=people.admin, active=False, via=Via.WEB)

    assert User.objects.filter(pk=user.pk).exists()
    assert not user.is_active
    assert user.presence == Presence.OFFLINE
    assert authenticate_token(raw) is None
    assert Event.objects.filter(action="user.deactivated", object_id=user.pk).count() == 1
    assert [(e.user_id, e.active) for e in seen] == [(user.pk, False)]  # type: ignore[attr-defined]


def test_reactivated_user_may_sign_in_again(people: Personas) -> None:
    set_user_active(people.agent, by=people.admin, active=False)

    user = set_user_active(people.agent, by=people.admin, active=True)

    assert user.is_active
    assert Event.objects.filter(action="user.reactivated").count() == 1


def test_admins_cannot_deactivate_themselves(people: Personas) -> None:
    with pytest.raises(Conflict):
        set_user_active(people.admin, by=people.admin, active=False)


def test_agents_cannot_deactivate_anyone(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        set_user_active(people.colleague, by=people.agent, active=False)


# --- update_preferences -----------------------------------------------------------------------


def test_preferences_saved_with_an_audit_row_without_the_signature_text(
    people: Personas,
) -> None:
    user = update_preferences(
        people.agent,
        by=people.agent,
        language="pl",
        time_zone="Europe/Warsaw",
        signature="  Anna, Orders team  ",
        notify_on_assignment=False,
        notify_on_customer_reply=False,
        via=Via.WEB,
    )

    assert (user.language, user.time_zone, user.signature) == (
        "pl",
        "Europe/Warsaw",
        "Anna, Orders team",
    )
    assert not user.notify_on_assignment
    assert not user.notify_on_customer_reply
    audit = Event.objects.get(action="user.preferences_changed")
    assert audit.data["signature"] is True
    assert audit.data["time_zone"] == "Europe/Warsaw"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"language": "xx"}, "language"),
        ({"signature": "x" * 2001}, "signature"),
    ],
)
def test_bad_preferences_are_refused_on_their_field(
    people: Personas, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        update_preferences(people.agent, by=people.agent, **changes)

    assert caught.value.field == field
    people.agent.refresh_from_db()
    assert people.agent.time_zone == "UTC"


def test_browser_default_language_is_the_empty_string(people: Personas) -> None:
    update_preferences(people.agent, by=people.agent, language="cs")

    user = update_preferences(people.agent, by=people.agent, language="")

    assert user.language == ""


def test_people_change_only_their_own_preferences(people: Personas) -> None:
    with pytest.raises(PermissionDenied):
        update_preferences(people.colleague, by=people.agent, language="pl")


# --- update_team ----------------------------------------------------------------------------


def test_update_team_renames_sets_lead_and_replaces_members(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected() as seen, django_capture_on_commit_callbacks(execute=True):
        team = update_team(
            people.orders,
            by=people.admin,
            name="Orders & returns",
            email="Orders@Example.com",
            lead=people.other_agent,
            members=[people.agent],
            via=Via.WEB,
        )

    assert team.name == "Orders & returns"
    assert team.email == "orders@example.com"
    assert team.lead == people.other_agent
    members = set(Membership.objects.filter(team=team).values_list("user_id", flat=True))
    assert members == {people.agent.pk, people.other_agent.pk}
    audit = Event.objects.get(action="team.updated")
    assert audit.data["members"] == {
        "added": [people.other_agent.pk],
        "removed": sorted([people.supervisor.pk, people.colleague.pk]),
    }
    assert any(isinstance(e, TeamUpdated) for e in seen)
    assert sum(isinstance(e, TeamMemberRemoved) for e in seen) == 2


def test_update_team_refuses_a_name_another_team_has(people: Personas) -> None:
    with pytest.raises(InvalidInput) as caught:
        update_team(people.orders, by=people.admin, name="billing")

    assert caught.value.field == "name"


def test_update_team_refuses_a_customer_as_member(people: Personas) -> None:
    with pytest.raises(InvalidInput) as caught:
        update_team(people.orders, by=people.admin, members=[people.customer_user])

    assert caught.value.field == "members"
    assert (
        not Team.objects.get(pk=people.orders.pk)
        .members.filter(pk=people.customer_user.pk)
        .exists()
    )
