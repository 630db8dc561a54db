"""Agents' running counts of new and open conversations per channel (AgentLoad.open_counts):
kept by assignment in its own transaction and by the reactions to every conversation change,
set right by the reconcile job, and never trusted for the last free place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from importlib import import_module
from typing import Any, Protocol

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from frontdesk.accounts.models import Team, User
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Status
from frontdesk.core.models import Via
from frontdesk.core.scheduling import get_job
from frontdesk.routing import selectors
from frontdesk.routing import services as routing
from frontdesk.routing.models import AgentLoad, AssignmentMode
from tests.conftest import Personas
from tests.routing.conftest import Open, auto_team, make_agent


class Settle(Protocol):
    def __call__(self) -> AbstractContextManager[Any]: ...


@pytest.fixture
def settle(django_capture_on_commit_callbacks: Any) -> Settle:
    """A block whose commit callbacks (the reactions) run at its end, as after a commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def support(people: Personas) -> Team:
    return auto_team(Team.objects.create(name="Support"), AssignmentMode.ROUND_ROBIN)


def stored(user: User) -> tuple[dict[str, int], int]:
    row = AgentLoad.objects.filter(user=user).first()
    return ({}, 0) if row is None else (row.open_counts, row.open_total)


def truth(user: User) -> tuple[dict[str, int], int]:
    counts = selectors.open_counts_of(user.pk)
    return counts, sum(counts.values())


def test_an_assignment_stores_its_agents_count_in_its_own_transaction(
    support: Team, open_conversation: Open
) -> None:
    anna = make_agent("anna@support.example", support)
    # No commit callbacks run here: the count comes from the assignment itself.
    assert routing.assign_conversation(open_conversation(team=support, channel="chat").pk)
    assert routing.assign_conversation(open_conversation(team=support).pk)
    assert stored(anna) == ({"chat": 1, "email": 1}, 2) == truth(anna)


def test_counts_follow_assigning_unassigning_solving_and_reopening(
    people: Personas, open_conversation: Open, settle: Settle
) -> None:
    anna, carl = people.agent, people.colleague
    with settle():
        held = services.create_conversation(
            by=None, customer=people.customer, subject="Held", channel="email", text="x",
            team=people.orders, assignee=anna,
        )  # fmt: skip
    assert stored(anna) == ({"email": 1}, 1)

    conversation = open_conversation(team=people.orders, channel="phone")
    with settle():
        services.assign(conversation, by=anna, assignee=anna, via=Via.WEB)
    assert stored(anna) == ({"email": 1, "phone": 1}, 2)

    with settle():
        services.assign(conversation, by=people.supervisor, assignee=carl, via=Via.WEB)
    assert stored(anna) == ({"email": 1}, 1)
    assert stored(carl) == ({"phone": 1}, 1)

    with settle():
        services.assign(conversation, by=carl, assignee=None, via=Via.WEB)
    assert stored(carl) == ({}, 0)

    with settle():
        services.set_status(held, by=anna, status=Status.SOLVED, via=Via.WEB)
    assert stored(anna) == ({}, 0)
    with settle():
        services.set_status(held, by=anna, status=Status.OPEN, via=Via.WEB)
    assert stored(anna) == ({"email": 1}, 1)
    with settle():
        services.set_status(held, by=anna, status=Status.PENDING, via=Via.WEB)
    assert stored(anna) == ({}, 0)
    # The customer answering puts it back among her open ones.
    with settle():
        services.add_customer_message(held, by=None, text="Any news?", via=Via.EMAIL)
    assert stored(anna) == ({"email": 1}, 1) == truth(anna)


def test_counts_follow_a_reply_that_takes_an_unassigned_conversation(
    people: Personas, open_conversation: Open, settle: Settle
) -> None:
    conversation = open_conversation(team=people.orders)
    with settle():
        services.add_reply(conversation, by=people.agent, text="On it.", via=Via.WEB)
    assert stored(people.agent) == ({"email": 1}, 1)


def test_counts_follow_a_transfer(
    people: Personas, open_conversation: Open, settle: Settle
) -> None:
    conversation = open_conversation(team=people.orders, channel="chat")
    with settle():
        services.assign(conversation, by=people.agent, assignee=people.agent, via=Via.WEB)
        services.transfer(
            conversation, by=people.agent, team=people.billing, assignee=people.other_agent,
            via=Via.WEB,
        )  # fmt: skip
    assert stored(people.agent) == ({}, 0)
    assert stored(people.other_agent) == ({"chat": 1}, 1)


def test_counts_follow_a_merge(people: Personas, open_conversation: Open, settle: Settle) -> None:
    first = open_conversation("First", team=people.orders)
    second = open_conversation("Second", team=people.orders)
    with settle():
        services.assign(first, by=people.agent, assignee=people.agent, via=Via.WEB)
        services.assign(second, by=people.agent, assignee=people.agent, via=Via.WEB)
    assert stored(people.agent) == ({"email": 2}, 2)
    with settle():
        services.merge(second, by=people.agent, into=first, via=Via.WEB)
    # The merged one closed; the one it went into is still hers.
    assert stored(people.agent) == ({"email": 1}, 1) == truth(people.agent)


def test_new_to_open_moves_no_count_and_counts_nothing_again(
    people: Personas, open_conversation: Open, settle: Settle
) -> None:
    conversation = open_conversation(team=people.orders)
    with settle():
        services.assign(conversation, by=people.agent, assignee=people.agent, via=Via.WEB)
    with CaptureQueriesContext(connection) as queries, settle():
        services.set_status(conversation, by=people.agent, status=Status.OPEN, via=Via.WEB)
    assert not any("routing_agentload" in q["sql"] for q in queries.captured_queries)
    assert stored(people.agent) == ({"email": 1}, 1)


def test_the_reaction_to_an_automatic_assignment_does_not_count_again(
    support: Team, open_conversation: Open, settle: Settle
) -> None:
    anna = make_agent("anna@support.example", support)
    conversation = open_conversation(team=support, via=Via.SYSTEM)
    with CaptureQueriesContext(connection) as queries, settle():
        assert routing.assign_conversation(conversation.pk) == anna.pk
    counts = [q["sql"] for q in queries.captured_queries if "GROUP BY channel" in q["sql"]]
    assert len(counts) == 1  # the one under the lock, before assigning
    assert stored(anna) == ({"email": 1}, 1)


def test_a_count_that_lags_never_gives_away_a_place_that_is_not_free(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, capacity=1)
    anna = make_agent("anna@support.example", support)
    held = open_conversation(team=support)
    assert routing.assign_conversation(held.pk) == anna.pk
    # Her count says she is free (a reaction that has not run yet, say)...
    AgentLoad.objects.filter(user=anna).update(open_counts={}, open_total=0)
    waiting = open_conversation(team=support)
    # ...but the count taken under her lock says otherwise.
    assert routing.assign_conversation(waiting.pk) is None
    assert Conversation.objects.get(pk=waiting.pk).assignee_id is None


def test_an_agent_who_frees_a_place_is_counted_before_waiting_work_is_given(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, capacity=1)
    anna = make_agent("anna@support.example", support)
    held, waiting = open_conversation(team=support), open_conversation(team=support)
    assert routing.assign_conversation(held.pk) == anna.pk
    assert routing.assign_conversation(waiting.pk) is None
    # Solved with no reaction run: her stored count still says full.
    services.set_status(held, by=anna, status=Status.SOLVED, via=Via.WEB)
    assert stored(anna) == ({"email": 1}, 1)
    assert routing.assign_waiting_for_agent(anna.pk) == 1
    assert Conversation.objects.get(pk=waiting.pk).assignee_id == anna.pk
    assert stored(anna) == ({"email": 1}, 1) == truth(anna)


# --- the reconcile job -----------------------------------------------------------------------


def drift(people: Personas) -> None:
    """Anna holds three conversations her count does not know of (their reactions never ran),
    and Carl's count holds two he does not have."""
    for channel in ("email", "email", "chat"):
        services.create_conversation(
            by=None, customer=people.customer, subject="Held", channel=channel, text="x",
            team=people.orders, assignee=people.agent,
        )  # fmt: skip
    AgentLoad.objects.update_or_create(
        user=people.colleague, defaults={"open_counts": {"phone": 2}, "open_total": 2}
    )


def test_the_reconcile_job_sets_drifted_counts_right(people: Personas) -> None:
    drift(people)
    assert stored(people.agent) != truth(people.agent)
    report = routing.reconcile_agent_loads()
    assert report["fixed"] == 2
    assert report["checked"] >= 2
    for user in (people.agent, people.colleague):
        assert stored(user) == truth(user)
    assert stored(people.agent) == ({"email": 2, "chat": 1}, 3)
    assert stored(people.colleague) == ({}, 0)
    # Every staff member has a row now, checked; a second run finds nothing to fix.
    staff = User.objects.filter(role__in=("agent", "supervisor", "admin", "reviewer"))
    assert AgentLoad.objects.filter(checked_at__isnull=False).count() == staff.count()
    assert routing.reconcile_agent_loads()["fixed"] == 0


def test_the_reconcile_job_is_bounded_and_takes_the_longest_unchecked_first(
    people: Personas,
) -> None:
    drift(people)
    routing.reconcile_agent_loads(limit=0)  # makes the rows, checks nobody
    now = timezone.now()
    AgentLoad.objects.update(checked_at=now)
    AgentLoad.objects.filter(user=people.colleague).update(checked_at=now - timedelta(hours=1))
    AgentLoad.objects.filter(user=people.agent).update(checked_at=None)
    assert routing.reconcile_agent_loads(limit=1) == {"checked": 1, "fixed": 1}
    assert stored(people.agent) == truth(people.agent)
    assert stored(people.colleague) == ({"phone": 2}, 2)  # not reached yet
    assert routing.reconcile_agent_loads(limit=1) == {"checked": 1, "fixed": 1}
    assert stored(people.colleague) == ({}, 0)


def test_the_reconcile_job_runs_every_ten_minutes() -> None:
    assert get_job("routing_reconcile_loads").every == timedelta(minutes=10)


def test_the_migration_starts_the_counts_from_the_conversations(people: Personas) -> None:
    drift(people)
    AgentLoad.objects.all().delete()
    migration = import_module("frontdesk.routing.migrations.0002_agent_load_counts")
    migration.count_existing_loads(apps, None)
    assert stored(people.agent) == ({"email": 2, "chat": 1}, 3)
    assert stored(people.colleague) == ({}, 0)


# --- what the decision reads -----------------------------------------------------------------


def test_the_decision_reads_the_agents_and_their_counts_in_one_query(
    people: Personas, support: Team, settle: Settle
) -> None:
    agents = [make_agent(f"a{i}@support.example", support) for i in range(5)]
    with settle():
        for agent in agents[:3]:
            services.create_conversation(
                by=None, customer=people.customer, subject="Held", channel="email", text="x",
                team=support, assignee=agent,
            )  # fmt: skip
    capacities = selectors.routing_settings().capacities_in("email")
    with CaptureQueriesContext(connection) as queries:
        choice = routing.decide_assignee(
            team_id=support.pk, channel="email", language="", mode=AssignmentMode.LEAST_LOADED,
            default_capacity=10, skill_id=None, capacities=capacities,
        )  # fmt: skip
    assert len(queries) == 1
    assert "conversations_conversation" not in queries[0]["sql"]
    assert {c.user_id: c.channel_load for c in choice.ordered} == {
        agent.pk: 1 if agent in agents[:3] else 0 for agent in agents
    }
    # The two without work come first.
    assert [c.user_id for c in choice.ordered][:2] == [agents[3].pk, agents[4].pk]


def test_the_decision_takes_room_from_the_counts_and_the_kept_capacities(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, capacity=1)
    anna = make_agent("anna@support.example", support)
    ben = make_agent("ben@support.example", support)
    routing.set_agent_capacity(ben, by=None, channel="chat", max_open=0)
    assert routing.assign_conversation(open_conversation(team=support).pk) == anna.pk

    def with_room(channel: str) -> list[int]:
        capacities = selectors.routing_settings().capacities_in(channel)
        found = selectors.candidates(
            team_id=support.pk, channel=channel, default_capacity=1, skill_id=None,
            capacities=capacities,
        )  # fmt: skip
        return [c.user_id for c in found if c.has_room]

    assert with_room("email") == [ben.pk]
    assert with_room("chat") == [anna.pk]  # Ben takes no chats
    routing.set_agent_capacity(anna, by=None, channel="email", max_open=2)
    assert with_room("email") == [anna.pk, ben.pk]


# --- the kept rules and team settings --------------------------------------------------------


@pytest.fixture
def forget() -> Iterator[None]:
    selectors.forget_kept_settings()
    yield
    selectors.forget_kept_settings()


def test_kept_rules_are_read_again_once_the_stamp_changes(people: Personas, forget: None) -> None:
    rule = routing.create_rule(by=people.admin, name="Refunds", keywords=["refund"],
                               add_tags=["refund"])  # fmt: skip
    kept = selectors.routing_settings()
    assert selectors.routing_settings() is kept  # one small read, nothing rebuilt
    routing.update_rule(rule, by=people.admin, keywords=["refund", "money back"])
    again = selectors.routing_settings()
    assert again is not kept
    assert again.rules.rules[0][1].keywords == ("refund", "money back")


def test_a_rolled_back_change_is_never_served_from_the_kept_rules(
    people: Personas, forget: None
) -> None:
    """A counter would hand out the rolled-back change's number again to the next change,
    and a process that had read the rules inside the rolled-back transaction would keep
    them; a random stamp is never handed out twice."""
    rule = routing.create_rule(by=people.admin, name="A", add_tags=["a"])
    with pytest.raises(RuntimeError), transaction.atomic():
        routing.update_rule(rule, by=people.admin, name="A, rolled back")
        assert selectors.routing_settings().rules.rules[0][0].name == "A, rolled back"
        raise RuntimeError
    routing.update_rule(rule, by=people.admin, add_tags=["b"])
    ((kept_rule, _conditions),) = selectors.routing_settings().rules.rules
    assert (kept_rule.name, kept_rule.add_tags) == ("A", ["b"])


def test_a_team_settings_change_reaches_the_next_assignment(
    support: Team, open_conversation: Open, forget: None
) -> None:
    make_agent("anna@support.example", support)
    assert routing.assign_conversation(open_conversation(team=support).pk) is not None
    auto_team(support, AssignmentMode.MANUAL)
    assert routing.assign_conversation(open_conversation(team=support).pk) is None


def test_without_a_stamp_row_nothing_is_kept(people: Personas, forget: None) -> None:
    from frontdesk.routing.models import SettingsVersion

    SettingsVersion.objects.all().delete()
    first = selectors.routing_settings()
    assert first.stamp is None
    assert selectors.routing_settings() is not first
    assert selectors.kept_settings() is None
