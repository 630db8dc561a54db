"""Teams (departments): creating them and changing who is in them."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.accounts.events import TeamCreated, TeamMemberAdded, TeamMemberRemoved
from frontdesk.accounts.models import Membership, Team
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.accounts.services import add_team_member, create_team, remove_team_member
from frontdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from frontdesk.core.events import Audience
from frontdesk.core.models import Event
from tests.conftest import Personas
from tests.events import collected


def test_admin_creates_team_whose_lead_is_also_a_member(people: Personas) -> None:
    team = create_team(
        by=people.admin, name=" Returns ", lead=people.supervisor, members=[people.agent]
    )

    assert team.name == "Returns"
    assert team.lead == people.supervisor
    assert set(team.members.all()) == {people.agent, people.supervisor}
    assert Event.objects.filter(
        object_type="team", object_id=team.pk, action="team.created"
    ).exists()


def test_create_team_publishes_team_created_to_team_and_members(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(TeamCreated) as seen, django_capture_on_commit_callbacks(execute=True):
        team = create_team(by=people.admin, name="Returns", members=[people.agent])

    assert seen == [
        TeamCreated(
            audience=Audience(team_ids=frozenset({team.pk}), user_ids=frozenset({people.agent.pk})),
            team_id=team.pk,
            lead_id=None,
            member_ids=(people.agent.pk,),
        )
    ]


@pytest.mark.parametrize("persona", ["supervisor", "agent", "customer_user"])
def test_only_admins_create_teams(people: Personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        create_team(by=getattr(people, persona), name="Returns")

    assert not Team.objects.filter(name="Returns").exists()


def test_team_names_are_unique_whatever_the_case(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_team(by=people.admin, name="ORDERS")

    assert refused.value.field == "name"


def test_team_needs_a_name(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_team(by=people.admin, name="   ")

    assert refused.value.field == "name"


def test_customer_cannot_lead_a_team(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_team(by=people.admin, name="Returns", lead=people.customer_user)

    assert refused.value.field == "lead"
    assert not Team.objects.filter(name="Returns").exists()


def test_customer_cannot_be_a_team_member(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_team(by=people.admin, name="Returns", members=[people.customer_user])

    assert refused.value.field == "members"
    assert not Team.objects.filter(name="Returns").exists()


def test_add_team_member_puts_agent_in_team_and_announces_it(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(TeamMemberAdded) as seen, django_capture_on_commit_callbacks(execute=True):
        membership = add_team_member(people.billing, by=people.admin, user=people.agent)

    assert (membership.team, membership.user) == (people.billing, people.agent)
    assert seen == [
        TeamMemberAdded(
            audience=Audience(
                team_ids=frozenset({people.billing.pk}), user_ids=frozenset({people.agent.pk})
            ),
            team_id=people.billing.pk,
            user_id=people.agent.pk,
        )
    ]
    audit = Event.objects.get(action="team.member_added")
    assert (audit.object_id, audit.data) == (people.billing.pk, {"user_id": people.agent.pk})


def test_adding_an_existing_member_is_a_conflict(people: Personas) -> None:
    with pytest.raises(Conflict) as refused:
        add_team_member(people.orders, by=people.admin, user=people.agent)

    assert refused.value.field == "user"
    assert Membership.objects.filter(team=people.orders, user=people.agent).count() == 1


def test_adding_a_customer_to_a_team_is_refused(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        add_team_member(people.orders, by=people.admin, user=people.customer_user)

    assert refused.value.field == "user"


@pytest.mark.parametrize("persona", ["supervisor", "agent"])
def test_only_admins_change_team_membership(people: Personas, persona: str) -> None:
    actor = getattr(people, persona)
    with pytest.raises(PermissionDenied):
        add_team_member(people.billing, by=actor, user=people.agent)
    with pytest.raises(PermissionDenied):
        remove_team_member(people.orders, by=actor, user=people.colleague)

    assert not Membership.objects.filter(team=people.billing, user=people.agent).exists()
    assert Membership.objects.filter(team=people.orders, user=people.colleague).exists()


def test_remove_team_member_takes_agent_out_and_announces_it(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(TeamMemberRemoved) as seen, django_capture_on_commit_callbacks(execute=True):
        remove_team_member(people.orders, by=people.admin, user=people.colleague)

    assert not Membership.objects.filter(team=people.orders, user=people.colleague).exists()
    assert seen == [
        TeamMemberRemoved(
            audience=Audience(
                team_ids=frozenset({people.orders.pk}),
                user_ids=frozenset({people.colleague.pk}),
            ),
            team_id=people.orders.pk,
            user_id=people.colleague.pk,
        )
    ]


def test_removing_someone_not_in_the_team_is_a_conflict(people: Personas) -> None:
    with pytest.raises(Conflict) as refused:
        remove_team_member(people.billing, by=people.admin, user=people.agent)

    assert refused.value.field == "user"
    assert not Event.objects.filter(action="team.member_removed").exists()


def test_membership_changes_refresh_the_cached_team_ids(people: Personas) -> None:
    assert team_ids_for(people.other_agent) == {people.billing.pk}
    add_team_member(people.orders, by=people.admin, user=people.other_agent)
    assert team_ids_for(people.other_agent) == {people.billing.pk, people.orders.pk}
    remove_team_member(people.billing, by=people.admin, user=people.other_agent)
    assert team_ids_for(people.other_agent) == {people.orders.pk}
