"""Automatic assignment: round-robin and least-loaded, capacity per channel, presence, skills
and languages, and what starts it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from frontdesk.accounts.models import Presence, Role, Team, User
from frontdesk.accounts.services import set_presence
from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Status
from frontdesk.core.models import Event, Via
from frontdesk.routing import services as routing
from frontdesk.routing.models import AssignmentMode
from tests.conftest import Personas, make_user
from tests.routing.conftest import Open, auto_team, fresh, make_agent


@pytest.fixture
def support(people: Personas) -> Team:
    return Team.objects.create(name="Support")


def assignee_of(conversation: Conversation) -> int | None:
    return fresh(conversation).assignee_id


def test_round_robin_is_fair_over_a_thousand_assignments(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, AssignmentMode.ROUND_ROBIN, capacity=1000)
    agents = [make_agent(f"rr{i}@support.example", support) for i in range(7)]
    counts: Counter[int | None] = Counter()
    previous: int | None = None
    for i in range(1000):
        conversation = open_conversation(f"Question {i}", team=support, via=Via.SYSTEM)
        assigned = routing.assign_conversation(conversation.pk)
        assert assigned is not None and assigned != previous  # the turn moves on every time
        counts[assigned] += 1
        previous = assigned
    assert set(counts) == {a.pk for a in agents}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_round_robin_takes_whoever_waited_longest_in_this_team(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, AssignmentMode.ROUND_ROBIN)
    anna, ben, cleo = (make_agent(f"{n}@support.example", support) for n in ("anna", "ben", "cleo"))
    order = [routing.assign_conversation(open_conversation(team=support).pk) for _ in range(6)]
    assert order == [anna.pk, ben.pk, cleo.pk, anna.pk, ben.pk, cleo.pk]


def test_least_loaded_takes_the_fewest_open_and_breaks_ties_by_waiting_time(
    people: Personas,
    support: Team,
    open_conversation: Open,
    django_capture_on_commit_callbacks: Any,
) -> None:
    auto_team(support, AssignmentMode.LEAST_LOADED)
    busy, light, idle = (
        make_agent(f"{n}@support.example", support) for n in ("busy", "light", "idle")
    )
    # The reactions after each commit keep the agents' running counts.
    with django_capture_on_commit_callbacks(execute=True):
        for agent, count in ((busy, 3), (light, 1)):
            for _ in range(count):
                services.create_conversation(
                    by=None, customer=people.customer, subject="Held", channel="email",
                    text="x", team=support, assignee=agent,
                )  # fmt: skip
        # Pending ones wait on the customer: they do not count as load.
        waiting = services.create_conversation(
            by=None, customer=people.customer, subject="Waits", channel="email", text="x",
            team=support, assignee=idle,
        )  # fmt: skip
        services.set_status(waiting, by=None, status=Status.PENDING)

    first = routing.assign_conversation(open_conversation(team=support).pk)
    assert first == idle.pk
    # idle and light now hold one each; light has waited longer since an assignment.
    second = routing.assign_conversation(open_conversation(team=support).pk)
    assert second == light.pk
    third = routing.assign_conversation(open_conversation(team=support).pk)
    assert third == idle.pk
    loads = Counter(
        Conversation.objects.filter(status__in=("new", "open"), team=support).values_list(
            "assignee_id", flat=True
        )
    )
    assert loads == {busy.pk: 3, light.pk: 2, idle.pk: 2}


def test_capacity_is_counted_per_channel(
    support: Team, open_conversation: Open, django_capture_on_commit_callbacks: Any
) -> None:
    auto_team(support, AssignmentMode.ROUND_ROBIN, capacity=2)
    anna = make_agent("anna@support.example", support)
    routing.set_agent_capacity(anna, by=None, channel="chat", max_open=1)
    chats = [open_conversation(team=support, channel="chat") for _ in range(2)]
    mails = [open_conversation(team=support, channel="email") for _ in range(3)]
    assert routing.assign_conversation(chats[0].pk) == anna.pk
    assert routing.assign_conversation(chats[1].pk) is None  # chat is full at one
    assert routing.assign_conversation(mails[0].pk) == anna.pk
    assert routing.assign_conversation(mails[1].pk) == anna.pk
    assert routing.assign_conversation(mails[2].pk) is None  # the team default, two
    assert assignee_of(chats[1]) is None
    # Solving one frees its place in that channel only (once its reaction has counted).
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(chats[0], by=None, status=Status.SOLVED)
    assert routing.assign_conversation(mails[2].pk) is None
    assert routing.assign_conversation(chats[1].pk) == anna.pk


def test_zero_capacity_keeps_a_channel_away_from_an_agent(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support)
    anna = make_agent("anna@support.example", support)
    ben = make_agent("ben@support.example", support)
    routing.set_agent_capacity(anna, by=None, channel="phone", max_open=0)
    for _ in range(3):
        assert routing.assign_conversation(open_conversation(team=support, channel="phone").pk) == (
            ben.pk
        )


def test_only_online_agents_get_new_work_and_away_ones_keep_theirs(
    people: Personas, support: Team, open_conversation: Open
) -> None:
    auto_team(support)
    online = make_agent("on@support.example", support)
    away = make_agent("away@support.example", support, presence=Presence.AWAY)
    make_agent("off@support.example", support, presence=Presence.OFFLINE)
    kept = services.create_conversation(
        by=None, customer=people.customer, subject="Theirs", channel="email", text="x",
        team=support, assignee=away,
    )  # fmt: skip
    assigned = {routing.assign_conversation(open_conversation(team=support).pk) for _ in range(5)}
    assert assigned == {online.pk}
    assert assignee_of(kept) == away.pk
    set_presence(online, by=None, presence=Presence.OFFLINE)
    assert routing.assign_conversation(open_conversation(team=support).pk) is None


def test_reviewers_and_inactive_people_get_no_work(support: Team, open_conversation: Open) -> None:
    auto_team(support)
    reviewer = make_user("rev@support.example", Role.REVIEWER, teams=(support,))
    set_presence(reviewer, by=None, presence=Presence.ONLINE)
    gone = make_agent("gone@support.example", support)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    assert routing.assign_conversation(open_conversation(team=support).pk) is None


def test_a_thai_conversation_goes_to_a_thai_speaker_when_one_is_online(
    people: Personas, support: Team, open_conversation: Open
) -> None:
    auto_team(support, AssignmentMode.LEAST_LOADED)
    english = make_agent("en@support.example", support, languages=("en",))
    thai = make_agent("th@support.example", support, languages=("en", "th-TH"))
    for _ in range(3):
        conversation = open_conversation("ช่วยด้วยครับ", text="พัสดุยังไม่มาถึงครับ", team=support)
        assert routing.assign_conversation(conversation.pk) == thai.pk
    # English goes to the less loaded agent as usual.
    assert routing.assign_conversation(open_conversation(team=support).pk) == english.pk
    audit = Event.objects.filter(action="conversation.assigned", object_id=conversation.pk).get()
    assert audit.data["cause"]["language_matched"] is True


def test_without_a_thai_speaker_online_anyone_eligible_takes_it(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support)
    english = make_agent("en@support.example", support, languages=("en",))
    make_agent("th@support.example", support, languages=("th",), presence=Presence.AWAY)
    conversation = open_conversation("Help", language="th", team=support)
    assert routing.assign_conversation(conversation.pk) == english.pk
    audit = Event.objects.filter(action="conversation.assigned", object_id=conversation.pk).get()
    assert audit.data["cause"]["language_matched"] is False


def test_a_full_thai_speaker_is_passed_over_for_anyone_with_room(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, capacity=1)
    thai = make_agent("th@support.example", support, languages=("th",))
    english = make_agent("en@support.example", support)
    first = open_conversation(language="th", team=support)
    second = open_conversation(language="th", team=support)
    assert routing.assign_conversation(first.pk) == thai.pk
    assert routing.assign_conversation(second.pk) == english.pk


def test_the_skill_a_rule_asks_for_is_preferred_with_a_fallback(
    people: Personas, support: Team, open_conversation: Open
) -> None:
    auto_team(support, AssignmentMode.LEAST_LOADED)
    make_agent("plain@support.example", support)
    expert = make_agent("expert@support.example", support, skills=("invoices",))
    rule = routing.create_rule(
        by=None, name="Invoices", keywords=["invoice"], skill=expert.skills.get()
    )
    for _ in range(2):
        conversation = open_conversation("Wrong invoice", team=support)
        assert routing.route_conversation(conversation.pk) == rule
        assert routing.assign_conversation(conversation.pk) == expert.pk
    set_presence(expert, by=None, presence=Presence.AWAY)
    conversation = open_conversation("Another invoice", team=support)
    routing.route_conversation(conversation.pk)
    assert routing.assign_conversation(conversation.pk) not in (None, expert.pk)


def test_manual_teams_are_not_assigned(support: Team, open_conversation: Open) -> None:
    make_agent("anna@support.example", support)
    conversation = open_conversation(team=support)
    assert routing.assign_conversation(conversation.pk) is None
    auto_team(support, AssignmentMode.MANUAL)
    assert routing.assign_conversation(conversation.pk) is None
    assert assignee_of(conversation) is None


def test_assignment_is_audited_with_its_mode_and_runs_once(
    support: Team, open_conversation: Open
) -> None:
    auto_team(support, AssignmentMode.LEAST_LOADED)
    anna = make_agent("anna@support.example", support)
    make_agent("ben@support.example", support)
    conversation = open_conversation(team=support)
    first = routing.assign_conversation(conversation.pk)
    assert routing.assign_conversation(conversation.pk) is None  # assigned already
    events = Event.objects.filter(action="conversation.assigned", object_id=conversation.pk)
    assert events.count() == 1
    event = events.get()
    assert event.actor_id is None and event.via == Via.SYSTEM
    assert event.data["assignee_id"] == first
    assert event.data["cause"]["kind"] == "assignment"
    assert event.data["cause"]["mode"] == "least_loaded"
    assert event.data["cause"]["team_id"] == support.pk
    assert first == anna.pk
    # The assignee becomes the owner, as when a person takes it.
    assert fresh(conversation).owner_id == first


# --- what starts it ------------------------------------------------------------------------------


def test_a_new_conversation_is_routed_then_assigned(
    people: Personas,
    support: Team,
    open_conversation: Open,
    django_capture_on_commit_callbacks: Any,
) -> None:
    auto_team(support)
    anna = make_agent("anna@support.example", support)
    routing.create_rule(by=None, name="Support", team=support)
    with django_capture_on_commit_callbacks(execute=True):
        conversation = open_conversation(team=people.orders)
    after = fresh(conversation)
    assert (after.team_id, after.assignee_id) == (support.pk, anna.pk)


def test_coming_online_takes_waiting_work_oldest_first(
    support: Team, open_conversation: Open, django_capture_on_commit_callbacks: Any
) -> None:
    auto_team(support, capacity=2)
    anna = make_agent("anna@support.example", support, presence=Presence.OFFLINE)
    waiting = [open_conversation(f"Q{i}", team=support) for i in range(3)]
    assert routing.assign_conversation(waiting[0].pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        set_presence(anna, by=anna, presence=Presence.ONLINE, via=Via.WEB)
    assert [assignee_of(c) for c in waiting] == [anna.pk, anna.pk, None]


def test_freeing_a_place_takes_the_next_waiting_conversation(
    support: Team, open_conversation: Open, django_capture_on_commit_callbacks: Any
) -> None:
    auto_team(support, capacity=1)
    anna = make_agent("anna@support.example", support)
    held, waiting = open_conversation(team=support), open_conversation(team=support)
    routing.assign_conversation(held.pk)
    routing.assign_conversation(waiting.pk)
    assert assignee_of(waiting) is None
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(held, by=anna, status=Status.PENDING, via=Via.WEB)
    assert assignee_of(waiting) == anna.pk


def test_an_unassigned_conversation_in_an_auto_team_is_assigned_again(
    support: Team, open_conversation: Open, django_capture_on_commit_callbacks: Any
) -> None:
    auto_team(support)
    anna = make_agent("anna@support.example", support)
    ben = make_agent("ben@support.example", support)
    conversation = open_conversation(team=support)
    assert routing.assign_conversation(conversation.pk) == anna.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(conversation, by=anna, assignee=None, via=Via.WEB)
    assert assignee_of(conversation) == ben.pk


def test_the_sweep_assigns_what_still_waits(support: Team, open_conversation: Open) -> None:
    from frontdesk.routing.tasks import assign_waiting_everywhere

    make_agent("anna@support.example", support)
    waiting = [open_conversation(team=support) for _ in range(2)]
    assert assign_waiting_everywhere() == {}
    auto_team(support)
    assert assign_waiting_everywhere() == {str(support.pk): 2}
    assert all(assignee_of(c) is not None for c in waiting)
    assert assign_waiting_everywhere() == {}
