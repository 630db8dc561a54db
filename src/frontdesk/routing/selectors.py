"""Reads for routing: rules and team settings for people, and the system's reads that
routing and assignment decide on.

Staff may read the rules and team settings (an agent may want to know why a
conversation came to them); only admins change them, which the services check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from frontdesk.accounts.models import STAFF_ROLES, Membership, Presence, Role, Team, User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.conversations.models import (
    ACTIVE_STATUSES,
    Conversation,
    ConversationTag,
    Message,
    Status,
)
from frontdesk.core.errors import NotFound
from frontdesk.customers.models import Customer
from frontdesk.mail import selectors as mail_selectors
from frontdesk.routing.matching import (
    TEXT_LIMIT,
    Conditions,
    Facts,
    language_of,
    matches,
    normalize_text,
    primary_language,
)
from frontdesk.routing.models import (
    AgentCapacity,
    AgentLoad,
    AssignmentMode,
    ConversationRouting,
    OwnerReminder,
    RoutingRule,
    TeamRouting,
    TeamTurn,
)

# Statuses in which an assigned conversation takes an agent's time: what capacity counts,
# and what assignment hands out. Pending and on-hold ones wait on someone else.
WORKING_STATUSES = (Status.NEW, Status.OPEN)
# Roles that automatic assignment gives work to; reviewers score conversations, not work them.
ASSIGNABLE_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
DRY_RUN_LIMIT = 50
# A dry run reads at most this many open conversations, newest first, to find its matches.
DRY_RUN_SCAN = 2000


# --- rules and settings, for people ------------------------------------------------------------


def _visible_rules(user: User) -> QuerySet[RoutingRule]:
    if is_staff_member(user):
        return RoutingRule.objects.select_related("team", "skill")
    return RoutingRule.objects.none()


def list_rules(user: User) -> list[RoutingRule]:
    """Every rule in the order they are tried; a desk has dozens, so no pagination."""
    return list(_visible_rules(user).order_by("position", "id"))


def access_rule(user: User, rule_id: int) -> RoutingRule:
    found = _visible_rules(user).filter(pk=rule_id).first()
    if found is None:
        raise NotFound(_("No such routing rule."))
    return found


@dataclass(frozen=True)
class TeamSettings:
    team: Team
    mode: str
    default_capacity: int


def team_settings(team: Team) -> TeamSettings:
    found = TeamRouting.objects.filter(team_id=team.pk).first()
    if found is None:
        return TeamSettings(team=team, mode=AssignmentMode.MANUAL, default_capacity=10)
    return TeamSettings(team=team, mode=found.mode, default_capacity=found.default_capacity)


def list_team_settings(user: User) -> list[TeamSettings]:
    if not is_staff_member(user):
        return []
    stored = {row.team_id: row for row in TeamRouting.objects.all()}
    result = []
    for team in Team.objects.order_by("name", "id"):
        row = stored.get(team.pk)
        result.append(
            TeamSettings(
                team=team,
                mode=row.mode if row else AssignmentMode.MANUAL,
                default_capacity=row.default_capacity if row else 10,
            )
        )
    return result


def capacities_of_team(user: User, team: Team) -> dict[int, dict[str, int]]:
    """The team members' own limits: {user id: {channel: max open}}."""
    if not is_staff_member(user):
        return {}
    result: dict[int, dict[str, int]] = {}
    rows = AgentCapacity.objects.filter(user__memberships__team_id=team.pk).values_list(
        "user_id", "channel", "max_open"
    )
    for user_id, channel, max_open in rows:
        result.setdefault(user_id, {})[channel] = max_open
    return result


# --- what a conversation looks like to the rules ------------------------------------------------


def conditions_of(rule: RoutingRule) -> Conditions:
    return Conditions(
        channels=frozenset(rule.channels),
        mailbox_ids=frozenset(rule.mailbox_ids),
        languages=frozenset(rule.languages),
        tags=frozenset(rule.tags),
        customer_ids=frozenset(rule.customer_ids),
        company_ids=frozenset(rule.company_ids),
        custom_fields=tuple(sorted(rule.custom_fields.items())),
        keywords=tuple(rule.keywords),
    )


@dataclass(frozen=True)
class RuleSet:
    """The active rules in the order they are tried, with their conditions, and which facts
    any of them looks at (a query is saved for those none does)."""

    rules: tuple[tuple[RoutingRule, Conditions], ...]
    needs_tags: bool
    needs_mailbox: bool


_cached_rules: dict[str, tuple[tuple[int, datetime | None], RuleSet]] = {}


def active_rules() -> RuleSet:
    """The rule set, kept in the process while no rule changed.

    Every change to a rule sets its updated_at (a move included) and a delete lowers the
    count, so one aggregate tells whether the kept set is current; the rules are read and
    their conditions built again only when it is not. The rows kept are for their ids,
    names and conditions: what a rule then changes is read fresh (route_conversation).
    """
    version = RoutingRule.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    key = (int(version["count"]), version["latest"])
    kept = _cached_rules.get("active")
    if kept is not None and kept[0] == key:
        return kept[1]
    pairs = tuple(
        (rule, conditions_of(rule))
        for rule in RoutingRule.objects.filter(active=True).order_by("position", "id")
    )
    found = RuleSet(
        rules=pairs,
        needs_tags=any(c.tags for _r, c in pairs),
        needs_mailbox=any(c.mailbox_ids for _r, c in pairs),
    )
    _cached_rules["active"] = (key, found)
    return found


def rule_to_apply(rule_id: int) -> RoutingRule | None:
    """The rule as it is now, with what it sets; None when it was deleted or turned off."""
    return (
        RoutingRule.objects.select_related("team", "skill").filter(pk=rule_id, active=True).first()
    )


def first_matching_rule(rules: RuleSet, facts: Facts) -> RoutingRule | None:
    for rule, conditions in rules.rules:
        if matches(conditions, facts):
            return rule
    return None


def _first_texts(ids: list[int]) -> dict[int, str]:
    """The text of each conversation's first message."""
    if len(ids) == 1:
        first = (
            Message.objects.filter(conversation_id=ids[0])
            .order_by("created_at", "id")
            .values_list("text", flat=True)
            .first()
        )
        return {ids[0]: first or ""}
    first_ids = (
        Message.objects.filter(conversation_id=OuterRef("pk"))
        .order_by("created_at", "id")
        .values("id")[:1]
    )
    message_ids = list(
        Conversation.objects.filter(pk__in=ids)
        .annotate(first=Subquery(first_ids))
        .values_list("pk", "first")
    )
    texts = dict(
        Message.objects.filter(pk__in=[m for _c, m in message_ids if m is not None]).values_list(
            "id", "text"
        )
    )
    return {c: texts.get(m, "") if m is not None else "" for c, m in message_ids}


def facts_for(
    conversations: list[Conversation], *, tags: bool = True, mailbox: bool = True
) -> dict[int, Facts]:
    """The facts of each conversation (customer selected), in at most four queries however
    many; `tags=False` or `mailbox=False` leaves out what no rule looks at."""
    ids = [c.pk for c in conversations]
    if not ids:
        return {}
    tag_names: dict[int, set[str]] = {}
    if tags:
        rows = ConversationTag.objects.filter(conversation_id__in=ids).values_list(
            "conversation_id", "tag__name"
        )
        for conversation_id, name in rows:
            tag_names.setdefault(conversation_id, set()).add(name)
    first_texts = _first_texts(ids)
    mailboxes = mail_selectors.first_mailbox_ids(ids) if mailbox else {}
    return {
        c.pk: _facts(
            channel=c.channel,
            mailbox_id=mailboxes.get(c.pk),
            declared=(c.language, c.customer.language),
            tags=tag_names.get(c.pk, ()),
            customer_id=c.customer_id,
            company_id=c.company_id,
            custom_fields=c.custom_fields or {},
            subject=c.subject,
            first_text=first_texts.get(c.pk, ""),
        )
        for c in conversations
    }


def _facts(
    *,
    channel: str,
    mailbox_id: int | None,
    declared: tuple[str, str],
    tags: Iterable[str],
    customer_id: int,
    company_id: int | None,
    custom_fields: Mapping[str, Any],
    subject: str,
    first_text: str,
) -> Facts:
    raw = f"{subject}\n{first_text[:TEXT_LIMIT]}"
    return Facts(
        channel=channel,
        mailbox_id=mailbox_id,
        language=language_of(declared, raw),
        tags=frozenset(tags),
        customer_id=customer_id,
        company_id=company_id,
        custom_fields=custom_fields,
        text=normalize_text(raw),
    )


def conversation_language(conversation: Conversation) -> str:
    """The language assignment looks for: declared on the conversation or its customer, else
    told by Thai script in the subject or first message (a query only when it comes to that)."""
    declared = (conversation.language, conversation.customer.language)
    found = language_of(declared, conversation.subject)
    if found or any(tag.strip() for tag in declared):
        return found
    first = (
        Message.objects.filter(conversation_id=conversation.pk)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return language_of((), (first or "")[:TEXT_LIMIT])


@dataclass(frozen=True)
class ForRouting:
    """A new conversation as routing sees it."""

    id: int
    number: int
    team_id: int | None
    merged_into_id: int | None
    facts: Facts


def read_for_routing(conversation_id: int, *, tags: bool, mailbox: bool) -> ForRouting | None:
    """The conversation's facts, read for the rules of one new conversation.

    Written out as one statement (and one more for the tags when a rule looks at them):
    this read starts every routing decision, and the ORM took longer to build the join
    with the customer and the first message than the database took to answer it.
    facts_for reads the same facts for many conversations; a test holds them equal.
    """
    quote = connection.ops.quote_name
    conversations = quote(Conversation._meta.db_table)
    customers = quote(Customer._meta.db_table)
    messages = quote(Message._meta.db_table)
    sql = (
        "SELECT c.id, c.number, c.team_id, c.merged_into_id, c.channel, c.language, "  # noqa: S608
        "cu.language, c.customer_id, c.company_id, c.custom_fields, c.subject, "
        f"(SELECT m.text FROM {messages} m WHERE m.conversation_id = c.id "
        "ORDER BY m.created_at, m.id LIMIT 1) "
        f"FROM {conversations} c JOIN {customers} cu ON cu.id = c.customer_id WHERE c.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [conversation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, number, team_id, merged_into_id, channel, language, customer_language = row[:7]
    customer_id, company_id, custom_fields, subject, first_text = row[7:]
    names: list[str] = []
    if tags:
        names = list(
            ConversationTag.objects.filter(conversation_id=pk).values_list("tag__name", flat=True)
        )
    return ForRouting(
        id=pk,
        number=number,
        team_id=team_id,
        merged_into_id=merged_into_id,
        facts=_facts(
            channel=channel,
            mailbox_id=mail_selectors.first_mailbox_ids([pk]).get(pk) if mailbox else None,
            declared=(language, customer_language),
            tags=names,
            customer_id=customer_id,
            company_id=company_id,
            custom_fields=_json_dict(custom_fields),
            subject=subject,
            first_text=first_text or "",
        ),
    )


def dry_run(user: User, rule: RoutingRule) -> list[Conversation]:
    """Open conversations the rule's conditions hold for now, newest first, at most 50.

    Only the newest DRY_RUN_SCAN open conversations that pass the conditions a query
    can check (channel, customer, company, tags) are read and tested in full.
    """
    if not is_staff_member(user):
        raise NotFound(_("No such routing rule."))
    conditions = conditions_of(rule)
    qs = Conversation.objects.filter(status__in=sorted(ACTIVE_STATUSES)).select_related(
        "customer", "team", "assignee"
    )
    if conditions.channels:
        qs = qs.filter(channel__in=sorted(conditions.channels))
    if conditions.customer_ids:
        qs = qs.filter(customer_id__in=sorted(conditions.customer_ids))
    if conditions.company_ids:
        qs = qs.filter(company_id__in=sorted(conditions.company_ids))
    if conditions.tags:
        qs = qs.filter(
            Exists(
                ConversationTag.objects.filter(
                    conversation_id=OuterRef("pk"), tag__name__in=sorted(conditions.tags)
                )
            )
        )
    found: list[Conversation] = []
    batch = 200
    scanned = 0
    cursor: tuple[datetime, int] | None = None
    while scanned < DRY_RUN_SCAN and len(found) < DRY_RUN_LIMIT:
        page = qs.order_by("-created_at", "-id")
        if cursor is not None:
            page = page.filter(
                Q(created_at__lt=cursor[0]) | Q(created_at=cursor[0], id__lt=cursor[1])
            )
        rows = list(page[:batch])
        if not rows:
            break
        scanned += len(rows)
        cursor = (rows[-1].created_at, rows[-1].pk)
        facts = facts_for(rows, tags=bool(conditions.tags), mailbox=bool(conditions.mailbox_ids))
        found.extend(c for c in rows if matches(conditions, facts[c.pk]))
    return found[:DRY_RUN_LIMIT]


# --- who can take a conversation -------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An online member of the team who may get the conversation, with what decides it."""

    user_id: int
    languages: frozenset[str]
    has_skill: bool
    capacity: int
    channel_load: int
    total_load: int
    # When they last got a conversation of this team, and any at all, as text that sorts in
    # time order ("" for never): Django keeps the connection in UTC, so every text has the
    # same offset. Parsing 400 timestamps per decision cost more than the query did.
    team_turn_at: str
    last_assigned_at: str

    @property
    def has_room(self) -> bool:
        return self.channel_load < self.capacity


def candidates(
    *, team_id: int, channel: str, default_capacity: int, skill_id: int | None
) -> list[Candidate]:
    """Online, active members of the team in an assignable role, with their loads.

    One statement, written out: it runs for every assignment, and at 200 agents the ORM
    spent longer building it (four subqueries and a grouped join) than the database
    spent answering it. Values go as parameters; table names come from the models.
    """
    t = _tables()
    skill = (
        f"EXISTS (SELECT 1 FROM {t['skills']} s WHERE s.user_id = u.id AND s.skill_id = %s)"  # noqa: S608
        if skill_id is not None
        else "0"
    )
    # Table names come from the models; every value is a parameter.
    sql = (
        "SELECT u.id, u.languages, cap.max_open, "  # noqa: S608
        "CAST(turn.last_assigned_at AS TEXT), CAST(al.last_assigned_at AS TEXT), "
        f"COALESCE(work.here, 0), COALESCE(work.total, 0), {skill} "
        f"FROM {t['user']} u "
        f"JOIN {t['membership']} m ON m.user_id = u.id AND m.team_id = %s "
        f"LEFT JOIN {t['capacity']} cap ON cap.user_id = u.id AND cap.channel = %s "
        f"LEFT JOIN {t['turn']} turn ON turn.user_id = u.id AND turn.team_id = %s "
        f"LEFT JOIN {t['load']} al ON al.user_id = u.id "
        "LEFT JOIN (SELECT assignee_id, COUNT(*) AS total, "
        f"SUM(CASE WHEN channel = %s THEN 1 ELSE 0 END) AS here FROM {t['conversation']} "
        "WHERE status IN (%s, %s) AND assignee_id IN "
        f"(SELECT user_id FROM {t['membership']} WHERE team_id = %s) GROUP BY assignee_id) work "
        "ON work.assignee_id = u.id "
        "WHERE u.is_active = %s AND u.presence = %s AND u.role IN (%s, %s, %s) "
        "ORDER BY u.id"
    )
    params: list[Any] = [
        *([skill_id] if skill_id is not None else []),
        team_id,
        channel,
        team_id,
        channel,
        *WORKING_STATUSES,
        team_id,
        True,
        Presence.ONLINE,
        *ASSIGNABLE_ROLES,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate(
            user_id=user_id,
            languages=_spoken(languages),
            has_skill=bool(has_skill),
            capacity=default_capacity if own is None else int(own),
            channel_load=int(here),
            total_load=int(total),
            team_turn_at=turn_at or "",
            last_assigned_at=assigned_at or "",
        )
        for user_id, languages, own, turn_at, assigned_at, here, total, has_skill in rows
    ]


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "user": quote(User._meta.db_table),
        "membership": quote(Membership._meta.db_table),
        "skills": quote(User.skills.through._meta.db_table),
        "capacity": quote(AgentCapacity._meta.db_table),
        "turn": quote(TeamTurn._meta.db_table),
        "load": quote(AgentLoad._meta.db_table),
        "conversation": quote(Conversation._meta.db_table),
    }


@lru_cache(maxsize=4096)
def _spoken_from_text(value: str) -> frozenset[str]:
    return frozenset(primary_language(str(tag)) for tag in _json_list(value))


def _spoken(value: Any) -> frozenset[str]:
    """An agent's languages by primary subtag; the same few lists recur, so they are kept."""
    if isinstance(value, str):
        return _spoken_from_text(value)
    return frozenset(primary_language(str(tag)) for tag in _json_list(value))


def _json_dict(value: Any) -> dict[str, Any]:
    found = json.loads(value) if isinstance(value, str | bytes) else value
    return found if isinstance(found, dict) else {}


def _json_list(value: Any) -> list[Any]:
    # A raw read gets JSON as text on SQLite (and from some driver setups on PostgreSQL).
    found = json.loads(value) if isinstance(value, str | bytes) else value
    return found if isinstance(found, list) else []


def channel_load(user_id: int, channel: str) -> int:
    return Conversation.objects.filter(
        assignee_id=user_id, status__in=WORKING_STATUSES, channel=channel
    ).count()


def routed_skill_id(conversation_id: int) -> int | None:
    return (
        ConversationRouting.objects.filter(conversation_id=conversation_id)
        .values_list("skill_id", flat=True)
        .first()
    )


def auto_assign_team_ids() -> list[int]:
    return list(
        TeamRouting.objects.exclude(mode=AssignmentMode.MANUAL)
        .order_by("team_id")
        .values_list("team_id", flat=True)
    )


def waiting_conversation_ids(team_id: int, *, limit: int) -> list[int]:
    """Unassigned new and open conversations of the team, oldest first."""
    return list(
        Conversation.objects.filter(
            team_id=team_id,
            assignee__isnull=True,
            status__in=WORKING_STATUSES,
            merged_into__isnull=True,
        )
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


# --- following handed-on conversations --------------------------------------------------------


def _handed_on() -> QuerySet[Conversation]:
    """Conversations whose owner no longer holds them and that are not solved or closed: each
    owner's "Transferred by me" (conversations.selectors.builtin_view_filters, for one owner)."""
    return Conversation.objects.filter(
        owner__isnull=False, status__in=sorted(ACTIVE_STATUSES)
    ).filter(Q(assignee__isnull=True) | ~Q(assignee_id=F("owner_id")))


def owners_following() -> list[tuple[int, str]]:
    """(id, time zone) of active staff who own handed-on conversations."""
    owner_ids = _handed_on().order_by().values("owner_id").distinct()
    return list(
        User.objects.filter(pk__in=owner_ids, is_active=True, role__in=sorted(STAFF_ROLES))
        .order_by("id")
        .values_list("id", "time_zone")
    )


def handed_on_ids(owner_id: int, *, limit: int) -> list[int]:
    """One owner's handed-on conversations, oldest first."""
    return list(
        _handed_on()
        .filter(owner_id=owner_id)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def reminded_owner_ids(owner_days: list[tuple[int, date]]) -> set[tuple[int, date]]:
    """Which of these (owner, day) pairs already had their reminder."""
    if not owner_days:
        return set()
    owners = {owner for owner, _day in owner_days}
    days = {day for _owner, day in owner_days}
    return set(
        OwnerReminder.objects.filter(owner_id__in=owners, day__in=days).values_list(
            "owner_id", "day"
        )
    )


def reminder_conversations(reminder: OwnerReminder) -> list[Conversation]:
    """The reminder's conversations as they are now, still handed on (the task re-reads)."""
    return list(
        _handed_on()
        .filter(owner_id=reminder.owner_id, pk__in=reminder.conversation_ids)
        .select_related("team", "assignee", "customer")
        .order_by("created_at", "id")
    )
