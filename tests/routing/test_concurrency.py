"""Assignment under racing workers: each on its own connection, all at once.

On PostgreSQL the row locks decide (the conversation, then the chosen agent's load row);
on SQLite (a file database) one writer runs at a time. Either way no conversation is
assigned twice and no agent holds more than their capacity.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from frontdesk.accounts.models import Team
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Status
from frontdesk.core.models import Event, Via
from frontdesk.routing import services as routing
from frontdesk.routing.models import AgentLoad, AssignmentMode
from tests.conftest import Personas
from tests.routing.conftest import Open, auto_team, make_agent

racing = pytest.mark.skipif(
    connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"),
    reason="racing connections need PostgreSQL or a file SQLite test database",
)


def side_by_side(work: Callable[[int], Any], count: int) -> list[Any]:
    """Run work(0..count-1) in threads released together; each closes its connection."""
    barrier = threading.Barrier(count, timeout=30)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        try:
            barrier.wait()
            outcome = work(index)
            with lock:
                results.append(outcome)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


def assignment_events(ids: list[int]) -> Counter[int]:
    return Counter(
        Event.objects.filter(
            action="conversation.assigned", object_type="conversation", object_id__in=ids
        ).values_list("object_id", flat=True)
    )


@racing
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [AssignmentMode.ROUND_ROBIN, AssignmentMode.LEAST_LOADED])
def test_racing_workers_never_assign_twice_nor_overflow_a_capacity(
    people: Personas, open_conversation: Open, mode: str
) -> None:
    support = auto_team(Team.objects.create(name="Support"), mode, capacity=3)
    agents = [make_agent(f"a{i}@support.example", support) for i in range(5)]
    ids = [open_conversation(f"Q{i}", team=support, via=Via.SYSTEM).pk for i in range(40)]

    def worker(index: int) -> list[int]:
        # Every worker tries every conversation, each in its own order.
        order = ids[:]
        random.Random(index).shuffle(order)
        return [c for c in order if routing.assign_conversation(c) is not None]

    won = side_by_side(worker, 8)
    assigned = [c for claims in won for c in claims]
    assert len(assigned) == len(set(assigned)) == 15  # five agents, three places each
    assert all(count == 1 for count in assignment_events(ids).values())
    loads = Counter(
        Conversation.objects.filter(pk__in=ids, assignee__isnull=False).values_list(
            "assignee_id", flat=True
        )
    )
    assert loads == {agent.pk: 3 for agent in agents}
    # Each agent's running count, written under their lock, came out exact.
    stored = dict(AgentLoad.objects.values_list("user_id", "open_counts"))
    assert stored == {agent.pk: {"email": 3} for agent in agents}
    assert routing.reconcile_agent_loads()["fixed"] == 0


@racing
@pytest.mark.django_db(transaction=True)
def test_the_last_free_place_goes_to_one_conversation_only(
    people: Personas, open_conversation: Open
) -> None:
    support = auto_team(Team.objects.create(name="Support"), capacity=2)
    agent = make_agent("only@support.example", support)
    held = open_conversation("Held", team=support, via=Via.SYSTEM)
    assert routing.assign_conversation(held.pk) == agent.pk
    ids = [open_conversation(f"Q{i}", team=support, via=Via.SYSTEM).pk for i in range(8)]

    results = side_by_side(lambda index: routing.assign_conversation(ids[index]), 8)
    assert sorted(results, key=lambda r: r is None) == [agent.pk] + [None] * 7
    assert Conversation.objects.filter(assignee=agent, status__in=("new", "open")).count() == 2


@racing
@pytest.mark.django_db(transaction=True)
def test_running_counts_end_exact_while_people_change_conversations_beside_the_workers(
    people: Personas, open_conversation: Open
) -> None:
    support = auto_team(Team.objects.create(name="Support"), AssignmentMode.LEAST_LOADED, 4)
    agents = [make_agent(f"a{i}@support.example", support) for i in range(4)]
    held = [open_conversation(f"H{i}", team=support, via=Via.SYSTEM).pk for i in range(8)]
    for conversation_id in held:
        assert routing.assign_conversation(conversation_id) is not None
    ids = [open_conversation(f"Q{i}", team=support, via=Via.SYSTEM).pk for i in range(24)]

    def work(index: int) -> None:
        rng = random.Random(index)
        if index < 4:
            for conversation_id in rng.sample(ids, len(ids)):
                routing.assign_conversation(conversation_id)
            return
        # People solving and reopening what the agents hold, while the workers assign.
        for conversation_id in rng.sample(held, 4):
            conversation = Conversation.objects.get(pk=conversation_id)
            services.set_status(conversation, by=None, status=Status.SOLVED)
            services.set_status(conversation, by=None, status=Status.OPEN)

    side_by_side(work, 6)
    for agent in agents:
        row = AgentLoad.objects.get(user=agent)
        truth = Counter(
            Conversation.objects.filter(assignee=agent, status__in=("new", "open")).values_list(
                "channel", flat=True
            )
        )
        assert (row.open_counts, row.open_total) == (dict(truth), sum(truth.values()))
    assert routing.reconcile_agent_loads()["fixed"] == 0
