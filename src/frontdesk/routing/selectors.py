"""Reads for routing: rules and team settings for people, and the system's reads that
routing and assignment decide on.

Staff may read the rules and team settings (an agent may want to know why a
conversation came to them); only admins change them, which the services check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from frontdesk.accounts.models import STAFF_ROLES, Membership, Presence, Role, Team, User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.conversations.models import (
    ACTIVE_STATUSES,
    Conversation,
    ConversationTag,
    Message,
    Status,
    Tag,
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
    DEFAULT_CAPACITY,
    AgentCapacity,
    AgentLoad,
    AssignmentMode,
    ConversationRouting,
    OwnerReminder,
    RoutingRule,
    SettingsVersion,
    TeamRouting,
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


def _settings_of(team: Team, row: TeamRouting | None) -> TeamSettings:
    """A team without a row assigns as a new row would: by the model's defaults."""
    row = row or TeamRouting(team=team)
    return TeamSettings(team=team, mode=row.mode, default_capacity=row.default_capacity)


def team_settings(team: Team) -> TeamSettings:
    return _settings_of(team, TeamRouting.objects.filter(team_id=team.pk).first())


def list_team_settings(user: User) -> list[TeamSettings]:
    if not is_staff_member(user):
        return []
    stored = {row.team_id: row for row in TeamRouting.objects.all()}
    return [_settings_of(team, stored.get(team.pk)) for team in Team.objects.order_by("name", "id")]


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


@dataclass(frozen=True)
class TeamAssignment:
    """How one team assigns: what a worker needs of TeamRouting, kept with the rules."""

    mode: str = AssignmentMode.MANUAL
    default_capacity: int = DEFAULT_CAPACITY


@dataclass(frozen=True)
class RoutingSettings:
    """The active rules, every team's way of assigning and the agents' own capacities
    ({channel: {user id: max open}}), as of one settings stamp."""

    stamp: str | None
    rules: RuleSet
    teams: Mapping[int, TeamAssignment] = field(default_factory=dict)
    capacities: Mapping[str, Mapping[int, int]] = field(default_factory=dict)

    def team(self, team_id: int) -> TeamAssignment:
        return self.teams.get(team_id) or TeamAssignment()

    def capacities_in(self, channel: str) -> Mapping[int, int]:
        return self.capacities.get(channel) or {}


# The settings this process read last, under the stamp they were read at.
_kept: dict[str, RoutingSettings] = {}
_UNREAD = object()


def settings_stamp() -> str | None:
    """The current stamp (SettingsVersion); None when the row is missing (a flushed database)."""
    return SettingsVersion.objects.filter(pk=1).values_list("stamp", flat=True).first()


def kept_settings() -> RoutingSettings | None:
    """What this process read last, unchecked: a guess at which facts the rules will need."""
    return _kept.get("settings")


def routing_settings(stamp: Any = _UNREAD) -> RoutingSettings:
    """The rules, team settings and capacities, kept in the process while the stamp holds.

    Every change to a rule, a team's settings or a capacity replaces the stamp in its own
    transaction
    (services._settings_changed), so a process that sees the stamp it kept has the rules
    as committed. Callers that read the conversation first get the stamp in that same
    statement and pass it; without it one small read fetches it. With no stamp row at all
    nothing is kept: every call reads afresh until a change writes one.
    """
    if stamp is _UNREAD:
        stamp = settings_stamp()
    kept = _kept.get("settings")
    if kept is not None and stamp is not None and kept.stamp == stamp:
        return kept
    found = RoutingSettings(
        stamp=stamp,
        rules=_read_rules(),
        teams=_read_team_assignments(),
        capacities=_read_capacities(),
    )
    if stamp is not None:
        _kept["settings"] = found
    return found


def forget_kept_settings() -> None:
    """Drop this process's copy (tests that rewrite the database underneath use it)."""
    _kept.clear()


def _read_rules() -> RuleSet:
    """The rows kept are for their ids, names and conditions: what a rule then changes is
    read fresh (route_conversation), so a team or skill deleted since is never applied."""
    pairs = tuple(
        (rule, conditions_of(rule))
        for rule in RoutingRule.objects.filter(active=True).order_by("position", "id")
    )
    return RuleSet(
        rules=pairs,
        needs_tags=any(c.tags for _r, c in pairs),
        needs_mailbox=any(c.mailbox_ids for _r, c in pairs),
    )


def _read_capacities() -> dict[str, dict[int, int]]:
    found: dict[str, dict[int, int]] = {}
    for user_id, channel, max_open in AgentCapacity.objects.values_list(
        "user_id", "channel", "max_open"
    ):
        found.setdefault(channel, {})[user_id] = max_open
    return found


def _read_team_assignments() -> dict[int, TeamAssignment]:
    return {
        team_id: TeamAssignment(mode=mode, default_capacity=default_capacity)
        for team_id, mode, default_capacity in TeamRouting.objects.values_list(
            "team_id", "mode", "default_capacity"
        )
    }


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


@dataclass(frozen=True)
class ForRouting:
    """A new conversation as routing sees it, with the settings stamp read alongside."""

    id: int
    number: int
    team_id: int | None
    merged_into_id: int | None
    facts: Facts
    stamp: str | None = None
    # Which facts were read: a rule set that changed since the guess may need one more.
    with_tags: bool = True
    with_mailbox: bool = True


def read_for_routing(conversation_id: int, *, tags: bool, mailbox: bool) -> ForRouting | None:
    """The conversation's facts and the settings stamp, read for the rules of one new
    conversation: one statement (and one more for the mailbox when a rule looks at it).

    Written out by hand: this read starts every routing decision, and the ORM took longer
    to build the join with the customer, the first message and the tags than the database
    took to answer it. facts_for reads the same facts for many conversations; a test holds
    them equal.
    """
    t = _tables()
    tag_list = (
        f"(SELECT {_json_array('tg.name')} FROM {t['conversation_tag']} ct "  # noqa: S608
        f"JOIN {t['tag']} tg ON tg.id = ct.tag_id WHERE ct.conversation_id = c.id)"
        if tags
        else "NULL"
    )
    sql = (
        "SELECT c.id, c.number, c.team_id, c.merged_into_id, c.channel, c.language, "  # noqa: S608
        "cu.language, c.customer_id, c.company_id, c.custom_fields, c.subject, "
        f"(SELECT SUBSTR(m.text, 1, {TEXT_LIMIT}) FROM {t['message']} m "
        "WHERE m.conversation_id = c.id ORDER BY m.created_at, m.id LIMIT 1), "
        f"{tag_list}, ({_STAMP_SQL.format(version=t['version'])}) "
        f"FROM {t['conversation']} c JOIN {t['customer']} cu ON cu.id = c.customer_id "
        "WHERE c.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [conversation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, number, team_id, merged_into_id, channel, language, customer_language = row[:7]
    customer_id, company_id, custom_fields, subject, first_text, tag_names, stamp = row[7:]
    return ForRouting(
        id=pk,
        number=number,
        team_id=team_id,
        merged_into_id=merged_into_id,
        facts=_facts(
            channel=channel,
            mailbox_id=mail_selectors.first_mailbox_ids([pk]).get(pk) if mailbox else None,
            declared=(language, customer_language),
            tags=(str(name) for name in _json_list(tag_names)),
            customer_id=customer_id,
            company_id=company_id,
            custom_fields=_json_dict(custom_fields),
            subject=subject,
            first_text=first_text or "",
        ),
        stamp=stamp,
        with_tags=tags,
        with_mailbox=mailbox,
    )


def read_with_settings(
    conversation_id: int,
) -> tuple[ForRouting | None, RoutingSettings | None]:
    """The conversation's facts and the rules and team settings current with them.

    Which facts to read is guessed from the settings this process kept (tags unless known
    unneeded, the mailbox only if known needed); the stamp read in the same statement
    then says whether the guess held, and the facts are read again in the rare case a
    changed rule set looks at more.
    """
    guess = kept_settings()
    found = read_for_routing(
        conversation_id,
        tags=guess is None or guess.rules.needs_tags,
        mailbox=guess is not None and guess.rules.needs_mailbox,
    )
    if found is None:
        return None, None
    current = routing_settings(found.stamp)
    rules = current.rules
    if (rules.needs_tags and not found.with_tags) or (
        rules.needs_mailbox and not found.with_mailbox
    ):
        found = read_for_routing(
            conversation_id, tags=rules.needs_tags, mailbox=rules.needs_mailbox
        )
    return found, current


_STAMP_SQL = "SELECT stamp FROM {version} WHERE id = 1"


def _json_array(column: str) -> str:
    """An aggregate that gathers `column` into a JSON array, in this database's words."""
    if connection.vendor == "postgresql":
        return f"json_agg({column})"
    return f"json_group_array({column})"


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


class Candidate(NamedTuple):
    """An online member of the team who may get the conversation, with what decides it.

    A named tuple: a decision makes one per online member, and a frozen dataclass took
    longer to build than the row took to fetch.
    """

    user_id: int
    languages: frozenset[str]
    has_skill: bool
    capacity: int
    channel_load: int
    total_load: int
    # When they last got a conversation of this team (models.turn_text), and any at all (the
    # database's text of a UTC timestamp), as text that sorts in time order ("" for never):
    # parsing 400 timestamps per decision cost more than the query did.
    team_turn_at: str
    last_assigned_at: str

    @property
    def has_room(self) -> bool:
        return self.channel_load < self.capacity


def candidates(
    *,
    team_id: int,
    channel: str,
    default_capacity: int,
    skill_id: int | None,
    capacities: Mapping[int, int],
) -> list[Candidate]:
    """Online, active members of the team in an assignable role, with their loads.

    One statement on two small tables and the memberships: the members and their load
    rows, whose running counts (AgentLoad.open_counts) stand in for counting the team's
    conversations and whose team_turns hold the round-robin pointer. `capacities` are the
    members' own limits in the channel (RoutingSettings.capacities_in), kept with the
    rules. Written out because it runs for every assignment, and at 200 agents the ORM
    spent longer building it than the database spent answering it.
    """
    t = _tables()
    skill = (
        f"EXISTS (SELECT 1 FROM {t['skills']} s WHERE s.user_id = u.id AND s.skill_id = %s)"  # noqa: S608
        if skill_id is not None
        else "0"
    )
    here, here_param = _json_key_sql("al.open_counts", channel)
    turn, turn_param = _json_key_sql("al.team_turns", str(team_id))
    # Table names come from the models; every value is a parameter. Languages as text:
    # the same few lists recur, and _spoken keeps them parsed.
    sql = (
        "SELECT u.id, CAST(u.languages AS TEXT), "  # noqa: S608
        f"{turn}, CAST(al.last_assigned_at AS TEXT), "
        f"COALESCE(CAST({here} AS INTEGER), 0), COALESCE(al.open_total, 0), {skill} "
        f"FROM {t['user']} u "
        f"JOIN {t['membership']} m ON m.user_id = u.id AND m.team_id = %s "
        f"LEFT JOIN {t['load']} al ON al.user_id = u.id "
        "WHERE u.is_active = %s AND u.presence = %s AND u.role IN (%s, %s, %s) "
        "ORDER BY u.id"
    )
    params: list[Any] = [
        turn_param,
        here_param,
        *([skill_id] if skill_id is not None else []),
        team_id,
        True,
        Presence.ONLINE,
        *ASSIGNABLE_ROLES,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    own = capacities.get
    # Positional, and no conversions the driver already made: this runs once per member.
    return [
        Candidate(
            user_id,
            _spoken(languages),
            bool(has_skill),
            own(user_id, default_capacity),
            here,
            total,
            turn_at or "",
            assigned_at or "",
        )
        for user_id, languages, turn_at, assigned_at, here, total, has_skill in rows
    ]


def _json_key_sql(column: str, key: str) -> tuple[str, str]:
    """One key of a JSON object column, as text (NULL when absent), and its parameter."""
    if connection.vendor == "postgresql":
        return f"({column} ->> %s)", key
    return f"json_extract({column}, %s)", f'$."{key}"'


def _tables() -> dict[str, str]:
    return _quoted_tables(connection.vendor)


@lru_cache(maxsize=4)
def _quoted_tables(vendor: str) -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "user": quote(User._meta.db_table),
        "membership": quote(Membership._meta.db_table),
        "skills": quote(User.skills.through._meta.db_table),
        "capacity": quote(AgentCapacity._meta.db_table),
        "load": quote(AgentLoad._meta.db_table),
        "version": quote(SettingsVersion._meta.db_table),
        "conversation": quote(Conversation._meta.db_table),
        "customer": quote(Customer._meta.db_table),
        "message": quote(Message._meta.db_table),
        "conversation_tag": quote(ConversationTag._meta.db_table),
        "tag": quote(Tag._meta.db_table),
        "routed": quote(ConversationRouting._meta.db_table),
    }


@dataclass(frozen=True)
class ForAssignment:
    """A conversation locked for assignment, with what deciding its assignee needs."""

    conversation: Conversation
    language: str
    skill_id: int | None
    stamp: str | None


def lock_for_assignment(conversation_id: int) -> ForAssignment | None:
    """Lock the conversation's row and read it with its customer's language, its first
    message (for the language when none is declared), the skill its routing rule asked
    for and the settings stamp: one statement, inside the caller's transaction."""
    t = _tables()
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    sql = (
        "SELECT c.*, cu.language AS fd_customer_language, cr.skill_id AS fd_skill_id, "  # noqa: S608
        f"(SELECT SUBSTR(m.text, 1, {TEXT_LIMIT}) FROM {t['message']} m "
        "WHERE m.conversation_id = c.id ORDER BY m.created_at, m.id LIMIT 1) AS fd_first_text, "
        f"({_STAMP_SQL.format(version=t['version'])}) AS fd_stamp "
        f"FROM {t['conversation']} c JOIN {t['customer']} cu ON cu.id = c.customer_id "
        f"LEFT JOIN {t['routed']} cr ON cr.conversation_id = c.id "
        f"WHERE c.id = %s{lock}"
    )
    found = next(iter(Conversation.objects.raw(sql, [conversation_id])), None)
    if found is None:
        return None
    declared = (found.language, str(getattr(found, "fd_customer_language", "") or ""))
    first_text = str(getattr(found, "fd_first_text", "") or "")
    return ForAssignment(
        conversation=found,
        language=_assignment_language(declared, found.subject, first_text),
        skill_id=getattr(found, "fd_skill_id", None),
        stamp=getattr(found, "fd_stamp", None),
    )


def _assignment_language(declared: tuple[str, str], subject: str, first_text: str) -> str:
    """Declared on the conversation or its customer, else told by Thai script in the subject
    or first message: the language the routing facts carry (language_of), read the same way."""
    found = language_of(declared, subject)
    if found or any(tag.strip() for tag in declared):
        return found
    return language_of((), first_text)


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


def open_counts_of(user_id: int) -> dict[str, int]:
    """The agent's new and open conversations by channel, counted now (the assignee index
    conv_assignee_status_act finds them): what the running counts must equal."""
    sql = (
        f"SELECT channel, COUNT(*) FROM {_tables()['conversation']} "  # noqa: S608
        "WHERE assignee_id = %s AND status IN (%s, %s) GROUP BY channel"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, *WORKING_STATUSES])
        return {str(channel): int(n) for channel, n in cursor.fetchall()}


def open_counts_of_many(user_ids: list[int]) -> dict[int, dict[str, int]]:
    """open_counts_of for many agents in one grouped query (the reconcile job's read)."""
    counts: dict[int, dict[str, int]] = {user_id: {} for user_id in user_ids}
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids, status__in=WORKING_STATUSES)
        .values_list("assignee_id", "channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    for user_id, channel, n in rows:
        counts[user_id][channel] = n
    return counts


def stored_counts(user_ids: list[int]) -> dict[int, tuple[dict[str, int], int]]:
    """The running counts as stored: {user id: (by channel, total)}."""
    return {
        user_id: (_count_map(counts), total)
        for user_id, counts, total in AgentLoad.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "open_counts", "open_total"
        )
    }


def lock_load_row(user_id: int) -> User | None:
    """Lock the agent's AgentLoad row and read the agent with it, in one statement; None
    when the row does not exist yet. The stored counts and turns come along
    (stored_counts_of, stored_turns_of)."""
    t = _tables()
    lock = " FOR UPDATE OF al" if connection.features.has_select_for_update_of else ""
    sql = (
        "SELECT u.*, al.open_counts AS fd_open_counts, al.open_total AS fd_open_total, "  # noqa: S608
        "al.team_turns AS fd_team_turns "
        f"FROM {t['load']} al JOIN {t['user']} u ON u.id = al.user_id "
        f"WHERE al.user_id = %s{lock}"
    )
    return next(iter(User.objects.raw(sql, [user_id])), None)


def stored_counts_of(agent: User) -> tuple[dict[str, int], int]:
    """The running counts read by lock_load_row: (by channel, total)."""
    return _count_map(getattr(agent, "fd_open_counts", None)), int(
        getattr(agent, "fd_open_total", 0) or 0
    )


def stored_turns_of(agent: User) -> dict[str, str]:
    """The round-robin pointers read by lock_load_row: {team id: turn_text}."""
    return {str(k): str(v) for k, v in _json_dict(getattr(agent, "fd_team_turns", None)).items()}


def _count_map(value: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in _json_dict(value).items() if int(v)}


def loads_to_check(limit: int) -> list[int]:
    """Agents whose running counts were compared longest ago (never first), at most `limit`."""
    return list(
        AgentLoad.objects.order_by(F("checked_at").asc(nulls_first=True), "user_id").values_list(
            "user_id", flat=True
        )[:limit]
    )


def staff_without_load_row() -> list[int]:
    """Staff (who alone can hold conversations) who have no load row yet."""
    return list(
        User.objects.filter(role__in=sorted(STAFF_ROLES))
        .exclude(pk__in=AgentLoad.objects.values("user_id"))
        .order_by("id")
        .values_list("id", flat=True)
    )


def assignee_of(conversation_id: int) -> int | None:
    return (
        Conversation.objects.filter(pk=conversation_id)
        .values_list("assignee_id", flat=True)
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
    # exclude() keeps the unassigned ones: its NOT is null-safe.
    return Conversation.objects.filter(
        owner__isnull=False, status__in=sorted(ACTIVE_STATUSES)
    ).exclude(assignee_id=F("owner_id"))


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
