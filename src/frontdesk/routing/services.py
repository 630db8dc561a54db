"""The only writers of routing rows, and the system's routing and assignment of conversations.

Admin changes (rules, team settings, capacities) check that the actor is an admin,
validate, write with one audit row in one transaction and publish an event on commit;
`by=None` is the trusted system.

Routing and assignment change conversations only through `conversations.services`,
as the system (`by=None`, via system), and every change they make names its cause in
the audit row: the rule (`{"kind": "routing_rule", "id", "name"}`) or the team's
assignment mode (`{"kind": "assignment", "mode", "team_id"}`).

Rules: the first active rule, by position, whose conditions all hold routes a new
conversation; later rules are not tried. This is Freshdesk's dispatch default and
what people expect of an ordered list: the rule's place says which one decides, and
two rules that overlap never combine into a result nobody wrote. A catch-all rule
without conditions at the end gives everything else a team.

Assignment (team mode round-robin or least-loaded) gives a waiting conversation to an
online member of its team who has room in its channel. Among those it prefers the ones
with the skill the routing rule asked for, then those who speak the conversation's
language; when nobody online has the skill or speaks the language, it falls back to
everyone with room, so the customer gets an answer in English rather than none. Round-
robin then takes whoever has waited longest for a conversation of this team; least-
loaded takes whoever has the fewest new and open conversations, the one who has waited
longest since their last assignment breaking a tie.

Concurrency: the conversation row is locked (select_for_update) and assigned only if it
is still unassigned, so two workers never assign it twice. The chosen agent's AgentLoad
row is locked next, and their load counted again under that lock, so two conversations
never both take an agent's last free place. A worker holds at most one conversation lock
and one agent lock, always in that order; an agent who turns out to be full is given up
by rolling back to a savepoint (which releases their lock) before the next is tried, so
no two workers wait on each other in a cycle. SQLite runs one writer at a time anyway.

Running counts: the decision reads each agent's new and open conversations per channel
from their AgentLoad row instead of counting the team's conversations. Assignment stores
the count it took under the lock, plus the conversation it gives, in its own transaction;
every other change (a person assigning, a status change into or out of new/open, a
transfer, a merge) has its agents counted again under their locks by the reactions after
it commits; and a job every ten minutes compares the rows with the conversations. A count
can therefore lag a change by the moment its reaction takes: a count too low only sends
the decision to an agent the recount under the lock then finds full; one too high keeps
an agent out until the reaction, and an agent who frees a place is counted again before
waiting work is handed out.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Membership, Skill, Team, User
from frontdesk.accounts.permissions import require_admin
from frontdesk.accounts.services import normalize_languages
from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.models import (
    Channel,
    Conversation,
    CustomFieldDefinition,
    FieldKind,
    Priority,
)
from frontdesk.conversations.validation import clean_field_value, clean_tags
from frontdesk.core.audit import record_event
from frontdesk.core.errors import InvalidInput, NotFound, ServiceError
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.core.validation import clean_text
from frontdesk.customers.models import Company, Customer
from frontdesk.mail import selectors as mail_selectors
from frontdesk.routing import selectors
from frontdesk.routing.events import (
    ConversationRouted,
    OwnerReminderDue,
    RoutingRuleChanged,
    TeamRoutingChanged,
)
from frontdesk.routing.models import (
    AgentCapacity,
    AgentLoad,
    AssignmentMode,
    ConversationRouting,
    OwnerReminder,
    RoutingRule,
    SettingsVersion,
    TeamRouting,
    turn_text,
)
from frontdesk.routing.selectors import Candidate

logger = logging.getLogger(__name__)

MAX_VALUES = 200
MAX_KEYWORD = 100
MAX_CAPACITY = 1000
# Waiting conversations one trigger assigns at most, oldest first.
ASSIGN_BATCH = 50
# Agents whose running counts one reconcile run compares, and how many per query.
RECONCILE_LIMIT = 2000
RECONCILE_CHUNK = 200
# The hour (in the owner's time zone) from which the day's reminder goes out.
REMINDER_HOUR = 9
REMINDER_CONVERSATIONS = 100


# --- rules -----------------------------------------------------------------------------------


def _text_list(values: Any, *, field: str, max_length: int) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInput(_("Give a list."), field=field)
    if len(values) > MAX_VALUES:
        raise InvalidInput(_("At most %(count)d values, please.") % {"count": MAX_VALUES},
                           field=field)  # fmt: skip
    result: list[str] = []
    for value in values:
        text = clean_text(value, field=field, max_length=max_length)
        if text and text not in result:
            result.append(text)
    return result


def _channels(values: Any) -> list[str]:
    channels = _text_list(values, field="channels", max_length=20)
    for channel in channels:
        if channel not in Channel.values:
            raise InvalidInput(_("Unknown channel: %(value)s.") % {"value": channel},
                               field="channels")  # fmt: skip
    return channels


def _ids(values: Any, *, field: str) -> list[int]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInput(_("Give a list of ids."), field=field)
    if len(values) > MAX_VALUES:
        raise InvalidInput(_("At most %(count)d values, please.") % {"count": MAX_VALUES},
                           field=field)  # fmt: skip
    ids: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(_("%(value)s is not an id.") % {"value": value}, field=field)
        if value not in ids:
            ids.append(value)
    return ids


def _existing(ids: list[int], found: set[int], *, field: str) -> list[int]:
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(_("There is no %(what)s %(id)s.") % {"what": field.removesuffix(
            "_ids"), "id": missing[0]}, field=field)  # fmt: skip
    return ids


def _mailbox_ids(values: Any) -> list[int]:
    ids = _ids(values, field="mailbox_ids")
    return _existing(ids, mail_selectors.existing_mailbox_ids(set(ids)), field="mailbox_ids")


def _customer_ids(values: Any) -> list[int]:
    ids = _ids(values, field="customer_ids")
    found = set(Customer.objects.filter(pk__in=ids).values_list("id", flat=True))
    return _existing(ids, found, field="customer_ids")


def _company_ids(values: Any) -> list[int]:
    ids = _ids(values, field="company_ids")
    found = set(Company.objects.filter(pk__in=ids).values_list("id", flat=True))
    return _existing(ids, found, field="company_ids")


def _tags(values: Any, *, field: str) -> list[str]:
    try:
        return clean_tags(values)
    except ServiceError as error:
        error.field = field
        raise


_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def _custom_fields(values: Any) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise InvalidInput(_("Give custom fields as keys and values."), field="custom_fields")
    definitions = {d.key: d for d in CustomFieldDefinition.objects.filter(active=True)}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        field = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None:
            raise InvalidInput(_("There is no field %(key)s.") % {"key": key}, field=field)
        wanted = value
        if definition.kind == FieldKind.CHECKBOX and isinstance(value, str):
            # A form sends text; a checkbox condition is "is ticked" or "is not".
            word = value.strip().lower()
            wanted = True if word in _TRUE else False if word in _FALSE else value
        if wanted is None:
            raise InvalidInput(_("Give a value to compare with."), field=field)
        cleaned[key] = clean_field_value(definition, wanted, field)
    return cleaned


def _keywords(values: Any) -> list[str]:
    return _text_list(values, field="keywords", max_length=MAX_KEYWORD)


def _priority(value: Any) -> int | None:
    if value is None:
        return None
    if value not in Priority.values:
        raise InvalidInput(_("Unknown priority."), field="priority")
    return int(value)


def _position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(_("Give the position as a number from 0."), field="position")
    return value


_CLEANERS: dict[str, Any] = {
    "name": lambda v: clean_text(v, field="name", max_length=200, required=True),
    "active": lambda v: _boolean(v, field="active"),
    "channels": _channels,
    "mailbox_ids": _mailbox_ids,
    "languages": lambda v: normalize_languages(v, field="languages"),
    "tags": lambda v: _tags(v, field="tags"),
    "customer_ids": _customer_ids,
    "company_ids": _company_ids,
    "custom_fields": _custom_fields,
    "keywords": _keywords,
    "team": lambda v: _instance(v, Team, field="team"),
    "priority": _priority,
    "add_tags": lambda v: _tags(v, field="add_tags"),
    "skill": lambda v: _instance(v, Skill, field="skill"),
}
RULE_FIELDS = tuple(_CLEANERS)


def _boolean(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("Enter true or false."), field=field)
    return value


def _instance(value: Any, model: type[Team] | type[Skill], *, field: str) -> Any:
    if value is not None and not (isinstance(value, model) and value.pk is not None):
        raise InvalidInput(_("Choose one from the list."), field=field)
    return value


def _check_has_action(values: Mapping[str, Any]) -> None:
    if (
        values.get("team") is None
        and values.get("priority") is None
        and not values.get("add_tags")
        and values.get("skill") is None
    ):
        raise InvalidInput(
            _("Give the rule something to do: set a team, a priority, tags or a skill."),
            field="team",
        )


def _rule_audience() -> Audience:
    return Audience()


def _rule_data(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "position": rule.position,
        "active": rule.active,
        "channels": rule.channels,
        "mailbox_ids": rule.mailbox_ids,
        "languages": rule.languages,
        "tags": rule.tags,
        "customer_ids": rule.customer_ids,
        "company_ids": rule.company_ids,
        "custom_fields": rule.custom_fields,
        "keywords": rule.keywords,
        "team_id": rule.team_id,
        "priority": rule.priority,
        "add_tags": rule.add_tags,
        "skill_id": rule.skill_id,
    }


def create_rule(
    *,
    by: User | None,
    name: str,
    position: int | None = None,
    via: str = Via.SYSTEM,
    **values: Any,
) -> RoutingRule:
    """Add a rule; without a position it goes last. `values` are RULE_FIELDS but `name`."""
    require_admin(by, _("Only admins may change routing rules."))
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), field=sorted(unknown)[0])
    cleaned = {key: _CLEANERS[key](value) for key, value in {"name": name, **values}.items()}
    _check_has_action(cleaned)
    at = timezone.now()
    with transaction.atomic():
        rules = list(RoutingRule.objects.select_for_update().order_by("position", "id"))
        place = len(rules) if position is None else min(_position(position), len(rules))
        rule = RoutingRule(**cleaned, position=place, created_at=at, updated_at=at)
        rule.save()
        rules.insert(place, rule)
        _renumber(rules)
        _settings_changed(at)
        record_event(rule, action="routing.rule_created", actor=by, via=via, at=at,
                     data=_rule_data(rule))  # fmt: skip
        publish(RoutingRuleChanged(audience=_rule_audience(), via=via, rule_id=rule.pk,
                                   name=rule.name, change="created"))  # fmt: skip
    return RoutingRule.objects.select_related("team", "skill").get(pk=rule.pk)


def update_rule(
    rule: RoutingRule, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> RoutingRule:
    """Change some of RULE_FIELDS (and `position`, which moves the rule)."""
    require_admin(by, _("Only admins may change routing rules."))
    position = changes.pop("position", None)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), field=sorted(unknown)[0])
    cleaned = {key: _CLEANERS[key](value) for key, value in changes.items()}
    at = timezone.now()
    with transaction.atomic():
        rules = list(RoutingRule.objects.select_for_update().order_by("position", "id"))
        locked = next((r for r in rules if r.pk == rule.pk), None)
        if locked is None:
            raise NotFound(_("No such routing rule."))
        before = _rule_data(locked)
        for key, value in cleaned.items():
            setattr(locked, key, value)
        _check_has_action({key: getattr(locked, key) for key in RULE_FIELDS})
        if position is not None:
            rules.remove(locked)
            rules.insert(min(_position(position), len(rules)), locked)
            _renumber(rules, skip=locked)
            locked.position = rules.index(locked)
        after = _rule_data(locked)
        changed = {key: after[key] for key in after if after[key] != before[key]}
        if not changed:
            return RoutingRule.objects.select_related("team", "skill").get(pk=locked.pk)
        locked.updated_at = at
        locked.save()
        _settings_changed(at)
        record_event(locked, action="routing.rule_updated", actor=by, via=via, at=at,
                     data={"changed": changed})  # fmt: skip
        publish(RoutingRuleChanged(audience=_rule_audience(), via=via, rule_id=locked.pk,
                                   name=locked.name, change="updated"))  # fmt: skip
    return RoutingRule.objects.select_related("team", "skill").get(pk=locked.pk)


def move_rule(
    rule: RoutingRule, *, by: User | None, position: int, via: str = Via.SYSTEM
) -> RoutingRule:
    """Put the rule at `position` (0 is tried first); the others keep their order."""
    return update_rule(rule, by=by, via=via, position=position)


def delete_rule(rule: RoutingRule, *, by: User | None, via: str = Via.SYSTEM) -> None:
    require_admin(by, _("Only admins may change routing rules."))
    at = timezone.now()
    with transaction.atomic():
        rules = list(RoutingRule.objects.select_for_update().order_by("position", "id"))
        locked = next((r for r in rules if r.pk == rule.pk), None)
        if locked is None:
            return
        record_event(locked, action="routing.rule_deleted", actor=by, via=via, at=at,
                     data=_rule_data(locked))  # fmt: skip
        rule_id, name = locked.pk, locked.name
        locked.delete()
        rules.remove(locked)
        _renumber(rules)
        _settings_changed(at)
        publish(RoutingRuleChanged(audience=_rule_audience(), via=via, rule_id=rule_id,
                                   name=name, change="deleted"))  # fmt: skip


def _settings_changed(at: datetime) -> None:
    """A new settings stamp, in the transaction of the change: every process then reads the
    rules, team settings and capacities again at its next decision
    (selectors.routing_settings)."""
    SettingsVersion.objects.bulk_create(
        [SettingsVersion(id=1, stamp=secrets.token_hex(16), changed_at=at)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["stamp", "changed_at"],
    )


def _renumber(rules: list[RoutingRule], *, skip: RoutingRule | None = None) -> None:
    """Positions 0..n-1 in list order, so "move to 3" always means the fourth place."""
    stale = []
    for index, rule in enumerate(rules):
        if rule.position != index and rule is not skip:
            rule.position = index
            stale.append(rule)
    if stale:
        RoutingRule.objects.bulk_update(stale, ["position"])


# --- team settings and capacities --------------------------------------------------------------


def _capacity(value: Any, *, field: str, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (minimum <= value <= MAX_CAPACITY)
    ):
        raise InvalidInput(
            _("Give a number from %(low)d to %(high)d.") % {"low": minimum, "high": MAX_CAPACITY},
            field=field,
        )
    return value


def update_team_routing(
    team: Team,
    *,
    by: User | None,
    mode: str | None = None,
    default_capacity: int | None = None,
    via: str = Via.SYSTEM,
) -> TeamRouting:
    """Set how a team's conversations are assigned and how many an agent takes per channel."""
    require_admin(by, _("Only admins may change how teams assign work."))
    if mode is not None and mode not in AssignmentMode.values:
        raise InvalidInput(_("Unknown assignment mode."), field="mode")
    if default_capacity is not None:
        _capacity(default_capacity, field="default_capacity", minimum=1)
    at = timezone.now()
    with transaction.atomic():
        TeamRouting.objects.bulk_create([TeamRouting(team=team)], ignore_conflicts=True)
        row = TeamRouting.objects.select_for_update().get(team_id=team.pk)
        before = {"mode": row.mode, "default_capacity": row.default_capacity}
        if mode is not None:
            row.mode = mode
        if default_capacity is not None:
            row.default_capacity = default_capacity
        after = {"mode": row.mode, "default_capacity": row.default_capacity}
        if after == before:
            return row
        row.updated_at = at
        row.save()
        _settings_changed(at)
        record_event(team, action="routing.team_settings_changed", actor=by, via=via, at=at,
                     data={"before": before, "after": after})  # fmt: skip
        publish(
            TeamRoutingChanged(
                audience=Audience(team_ids=frozenset({team.pk})), via=via, team_id=team.pk,
                mode=row.mode,
            )
        )  # fmt: skip
    return row


def set_agent_capacity(
    user: User,
    *,
    by: User | None,
    channel: str,
    max_open: int | None,
    via: str = Via.SYSTEM,
) -> AgentCapacity | None:
    """An agent's own limit for one channel; None goes back to each team's default."""
    require_admin(by, _("Only admins may change how teams assign work."))
    with transaction.atomic():
        result, changed = _set_capacity(user, by=by, channel=channel, max_open=max_open, via=via)
        if changed:
            _capacities_changed({user.pk}, via)
    return result


def _capacities_changed(user_ids: set[int], via: str) -> None:
    """After the agents' own limits changed: one new settings stamp however many did, and
    each of their teams told that waiting work may fit now."""
    _settings_changed(timezone.now())
    team_ids = Membership.objects.filter(user_id__in=user_ids).values_list("team_id", flat=True)
    for team_id in sorted(set(team_ids)):
        publish(TeamRoutingChanged(audience=Audience(team_ids=frozenset({team_id})), via=via,
                                   team_id=team_id, mode=""))  # fmt: skip


def _set_capacity(
    user: User, *, by: User | None, channel: str, max_open: int | None, via: str
) -> tuple[AgentCapacity | None, bool]:
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel: %(value)s.") % {"value": channel}, field="channel")
    if max_open is not None:
        _capacity(max_open, field="max_open", minimum=0)
    if not user.is_agent_staff:
        raise InvalidInput(_("%(user)s does not work conversations.") % {"user": user},
                           field="user")  # fmt: skip
    existing = (
        AgentCapacity.objects.select_for_update().filter(user_id=user.pk, channel=channel).first()
    )
    previous = existing.max_open if existing is not None else None
    if previous == max_open:
        return existing, False
    result: AgentCapacity | None = None
    if max_open is None:
        AgentCapacity.objects.filter(user_id=user.pk, channel=channel).delete()
    elif existing is None:
        result = AgentCapacity.objects.create(user=user, channel=channel, max_open=max_open)
    else:
        existing.max_open = max_open
        existing.save(update_fields=["max_open"])
        result = existing
    record_event(user, action="routing.capacity_changed", actor=by, via=via,
                 data={"channel": channel, "max_open": max_open, "previous": previous})  # fmt: skip
    return result, True


def update_team_assignment(
    team: Team,
    *,
    by: User | None,
    mode: str,
    default_capacity: int,
    capacities: Mapping[tuple[int, str], int | None],
    via: str = Via.SYSTEM,
) -> TeamRouting:
    """The team page's save: mode, default and members' own limits, all or nothing.

    `capacities` maps (member id, channel) to a limit, None for the team default.
    """
    require_admin(by, _("Only admins may change how teams assign work."))
    members = {u.pk: u for u in User.objects.filter(memberships__team_id=team.pk)}
    changed_members: set[int] = set()
    with transaction.atomic():
        row = update_team_routing(
            team, by=by, mode=mode, default_capacity=default_capacity, via=via
        )
        for (user_id, channel), max_open in sorted(capacities.items()):
            member = members.get(user_id)
            if member is None:
                raise InvalidInput(_("Only members of the team."), field="capacities")
            try:
                _result, changed = _set_capacity(
                    member, by=by, channel=channel, max_open=max_open, via=via
                )
            except ServiceError as error:
                error.field = f"cap_{user_id}_{channel}"
                raise
            if changed:
                changed_members.add(user_id)
        if changed_members:
            _capacities_changed(changed_members, via)
    return row


# --- routing a new conversation ----------------------------------------------------------------


def rule_cause(rule: RoutingRule) -> dict[str, Any]:
    return {"kind": "routing_rule", "id": rule.pk, "name": rule.name}


def route_conversation(conversation_id: int, *, at: datetime | None = None) -> RoutingRule | None:
    """Try the rules on a new conversation, once, and apply the first that matches.

    A second call (a task run twice) finds the conversation routed and changes nothing.
    The rule's changes and the routing row commit together.
    """
    at = at or timezone.now()
    found, current = selectors.read_with_settings(conversation_id)
    if found is None or current is None or found.merged_into_id is not None:
        return None
    matched = selectors.first_matching_rule(current.rules, found.facts)
    # What the rule sets is read now: the kept rule set may hold a team deleted since.
    rule = selectors.rule_to_apply(matched.pk) if matched is not None else None
    with transaction.atomic():
        try:
            with transaction.atomic():
                ConversationRouting.objects.create(
                    conversation_id=found.id,
                    rule=rule,
                    rule_name=rule.name if rule is not None else "",
                    skill=rule.skill if rule is not None else None,
                    routed_at=at,
                )
        except IntegrityError:
            return None  # routed already, by an earlier run of the same task
        if rule is not None:
            _apply_rule(Conversation.objects.get(pk=found.id), rule, at=at)
        publish(
            ConversationRouted(
                audience=Audience(),
                conversation_id=found.id,
                number=found.number,
                rule_id=rule.pk if rule is not None else None,
                rule_name=rule.name if rule is not None else "",
            )
        )
    return rule


def _apply_rule(conversation: Conversation, rule: RoutingRule, *, at: datetime) -> None:
    cause = rule_cause(rule)
    if rule.team is not None:
        conversation_services.set_team(conversation, by=None, team=rule.team, at=at, cause=cause)
    if rule.priority is not None:
        conversation_services.set_priority(
            conversation, by=None, priority=rule.priority, at=at, cause=cause
        )
    if rule.add_tags:
        conversation_services.add_tags(
            conversation, by=None, tags=rule.add_tags, at=at, cause=cause
        )


# --- assigning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Who assignment prefers for one conversation, best first, and why."""

    ordered: list[Candidate]
    language_matched: bool
    skill_matched: bool


def rank_candidates(
    found: list[Candidate], *, mode: str, language: str, wants_skill: bool
) -> Choice:
    """Members with room, preferred ones first: skill, then language, with a fallback to all."""
    pool = [c for c in found if c.has_room]
    skill_matched = False
    if wants_skill:
        skilled = [c for c in pool if c.has_skill]
        if skilled:
            pool, skill_matched = skilled, True
    language_matched = False
    if language:
        speakers = [c for c in pool if language in c.languages]
        if speakers:
            pool, language_matched = speakers, True
    if mode == AssignmentMode.ROUND_ROBIN:
        pool.sort(key=lambda c: (c.team_turn_at, c.user_id))
    else:
        pool.sort(key=lambda c: (c.total_load, c.last_assigned_at, c.user_id))
    return Choice(ordered=pool, language_matched=language_matched, skill_matched=skill_matched)


class _Full(Exception):
    """The chosen agent filled up meanwhile; roll back to the savepoint and try the next."""


def decide_assignee(
    *,
    team_id: int,
    channel: str,
    language: str,
    mode: str,
    default_capacity: int,
    skill_id: int | None,
    capacities: Mapping[int, int],
) -> Choice:
    """Whom to give a conversation of this team, channel and language to, best first.

    `capacities` are the agents' own limits in the channel from the settings the caller
    already holds (RoutingSettings.capacities_in).
    """
    found = selectors.candidates(
        team_id=team_id,
        channel=channel,
        default_capacity=default_capacity,
        skill_id=skill_id,
        capacities=capacities,
    )
    return rank_candidates(found, mode=mode, language=language, wants_skill=skill_id is not None)


def assign_conversation(conversation_id: int, *, at: datetime | None = None) -> int | None:
    """Give a waiting conversation of an auto-assigning team to the best agent with room.

    Returns the assignee's id, or None when it was not waiting (assigned already, not new
    or open, in a manual team) or nobody online had room; safe to call twice.
    """
    at = at or timezone.now()
    with transaction.atomic():
        found = selectors.lock_for_assignment(conversation_id)
        if found is None or not _waiting(found.conversation):
            return None
        conversation = found.conversation
        team_id = conversation.team_id
        assert team_id is not None  # noqa: S101 - _waiting checked it
        current = selectors.routing_settings(found.stamp)
        settings = current.team(team_id)
        if settings.mode == AssignmentMode.MANUAL:
            return None
        choice = decide_assignee(
            team_id=team_id,
            channel=conversation.channel,
            language=found.language,
            mode=settings.mode,
            default_capacity=settings.default_capacity,
            skill_id=found.skill_id,
            capacities=current.capacities_in(conversation.channel),
        )
        for candidate in choice.ordered:
            try:
                with transaction.atomic():
                    _take_place(
                        candidate, conversation, team_id, at=at, mode=settings.mode, choice=choice
                    )
            except _Full:
                continue
            return candidate.user_id
    return None


def _waiting(conversation: Conversation) -> bool:
    return (
        conversation.assignee_id is None
        and conversation.team_id is not None
        and conversation.merged_into_id is None
        and conversation.status in selectors.WORKING_STATUSES
    )


def _take_place(
    candidate: Candidate,
    conversation: Conversation,
    team_id: int,
    *,
    at: datetime,
    mode: str,
    choice: Choice,
) -> None:
    """Under the agent's lock: count their load again, then assign. Raises _Full when the
    count says there is no room (the running count the decision read may lag a moment).

    The count taken under the lock is exact (a change committed later waits for this lock
    before its own recount), so it is stored with the new conversation added, in this
    transaction: the reaction to this assignment then has nothing to count.
    """
    agent = _lock_agent(candidate.user_id)
    if agent is None:
        raise _Full
    counts = selectors.open_counts_of(candidate.user_id)
    channel = conversation.channel
    if counts.get(channel, 0) >= candidate.capacity:
        raise _Full
    # Registered before assign publishes its event, so it runs first on commit; dropped
    # with the savepoint if the assignment is rolled back.
    transaction.on_commit(lambda: _counted.add((conversation.pk, candidate.user_id)))
    conversation_services.assign(
        conversation,
        by=None,
        assignee=agent,
        at=at,
        cause={
            "kind": "assignment",
            "mode": mode,
            "team_id": team_id,
            "language_matched": choice.language_matched,
            "skill_matched": choice.skill_matched,
        },
    )
    counts[channel] = counts.get(channel, 0) + 1
    turns = selectors.stored_turns_of(agent)
    turns[str(team_id)] = turn_text(at)
    # One write for the counts, the time of this assignment and the team's turn.
    AgentLoad(
        user_id=agent.pk,
        open_counts=counts,
        open_total=sum(counts.values()),
        last_assigned_at=at,
        team_turns=turns,
    ).save(update_fields=["open_counts", "open_total", "last_assigned_at", "team_turns"])


# (conversation id, assignee id) of assignments whose counts were stored in their own
# transaction; the reaction to the assignment finds them here and skips its recount.
_counted: set[tuple[int, int]] = set()


def _lock_agent(user_id: int) -> User | None:
    """Lock the agent's load row (made on first use) and read the agent; None if no such user."""
    locked = selectors.lock_load_row(user_id)
    if locked is None:
        if not User.objects.filter(pk=user_id).exists():
            return None
        AgentLoad.objects.bulk_create([AgentLoad(user_id=user_id)], ignore_conflicts=True)
        locked = selectors.lock_load_row(user_id)
    return locked


# --- running counts --------------------------------------------------------------------------


def recount_agent_loads(user_ids: Iterable[int | None]) -> int:
    """Count the agents' new and open conversations again and store what changed.

    Each agent is counted under their load row's lock, one at a time, so a recount never
    waits on a second lock while holding one: racing recounts and assignments of the same
    agent serialise, and the last one to take the lock counts after every change that
    asked for it had committed. Returns how many agents' counts were wrong.
    """
    fixed = 0
    for user_id in sorted({u for u in user_ids if u is not None}):
        with transaction.atomic():
            agent = _lock_agent(user_id)
            if agent is not None and _store_counts(agent, selectors.open_counts_of(user_id)):
                fixed += 1
    return fixed


def _store_counts(agent: User, counts: Mapping[str, int]) -> bool:
    """Write the counts if they differ from the locked row's (read with the agent by
    selectors.lock_load_row); True when they did."""
    counts = {channel: n for channel, n in counts.items() if n}
    total = sum(counts.values())
    if selectors.stored_counts_of(agent) == (counts, total):
        return False
    AgentLoad(user_id=agent.pk, open_counts=counts, open_total=total).save(
        update_fields=["open_counts", "open_total"]
    )
    return True


def recount_after_assignment(
    conversation_id: int, *, assignee_id: int | None, previous_assignee_id: int | None
) -> int:
    """A conversation changed hands: both agents' counts may have changed. An assignment
    made here stored its assignee's count already, in its own transaction."""
    agents = {previous_assignee_id}
    if assignee_id is not None:
        try:
            _counted.remove((conversation_id, assignee_id))
        except KeyError:
            agents.add(assignee_id)
    return recount_agent_loads(agents)


def recount_holder(conversation_id: int) -> int:
    """A conversation's status went into or out of new/open (or it was merged away): count
    its assignee again. The assignee is read now; had it changed hands since, that change
    names the earlier holder and has them counted after it."""
    return recount_agent_loads([selectors.assignee_of(conversation_id)])


def reconcile_agent_loads(
    *, limit: int = RECONCILE_LIMIT, at: datetime | None = None
) -> dict[str, int]:
    """Compare the running counts of at most `limit` agents, those checked longest ago
    first, with their conversations, and count again under the lock where they differ.

    The counts follow conversation events after each commit; a reaction that failed, a
    crash between a commit and its reactions, or a conversation changed outside the
    services would leave one wrong until the agent's next change. This job bounds that
    to one round of it.
    """
    at = at or timezone.now()
    missing = selectors.staff_without_load_row()
    if missing:
        AgentLoad.objects.bulk_create(
            [AgentLoad(user_id=u) for u in missing], ignore_conflicts=True
        )
    checked = drifted = 0
    user_ids = selectors.loads_to_check(limit)
    for start in range(0, len(user_ids), RECONCILE_CHUNK):
        chunk = user_ids[start : start + RECONCILE_CHUNK]
        actual = selectors.open_counts_of_many(chunk)
        stored = selectors.stored_counts(chunk)
        wrong = [
            user_id
            for user_id in chunk
            if stored.get(user_id) != (actual[user_id], sum(actual[user_id].values()))
        ]
        # The comparison above is not locked: a difference may be a reaction still on its
        # way. Counting again under the lock settles it either way.
        drifted += recount_agent_loads(wrong)
        AgentLoad.objects.filter(user_id__in=chunk).update(checked_at=at)
        checked += len(chunk)
    return {"checked": checked, "fixed": drifted}


def assign_waiting(team_id: int, *, limit: int = ASSIGN_BATCH, at: datetime | None = None) -> int:
    """Assign the team's waiting conversations, oldest first, at most `limit`; how many went."""
    settings = TeamRouting.objects.filter(team_id=team_id).first()
    if settings is None or settings.mode == AssignmentMode.MANUAL:
        return 0
    assigned = 0
    for conversation_id in selectors.waiting_conversation_ids(team_id, limit=limit):
        if assign_conversation(conversation_id, at=at) is not None:
            assigned += 1
    return assigned


def assign_waiting_for_agent(user_id: int, *, limit: int = ASSIGN_BATCH) -> int:
    """An agent came online or freed a place: assign waiting work in their auto teams.

    Their counts are taken again first, so the place just freed shows however the
    reactions to the change that freed it are ordered.
    """
    recount_agent_loads([user_id])
    team_ids = set(selectors.auto_assign_team_ids())
    mine = User.objects.filter(pk=user_id).values_list("memberships__team_id", flat=True)
    assigned = 0
    for team_id in sorted(team_ids & {t for t in mine if t is not None}):
        assigned += assign_waiting(team_id, limit=limit)
    return assigned


# --- reminding owners --------------------------------------------------------------------------


def _local_now(time_zone: str, now: datetime) -> datetime:
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone)


def remind_owners(*, now: datetime | None = None) -> list[OwnerReminder]:
    """Owners of handed-on conversations get one reminder a day, from 09:00 their time.

    One OwnerReminder row per owner and day (in their time zone) makes the job safe to
    run as often as the scheduler likes: a day's reminder is written, and announced
    with OwnerReminderDue, once.
    """
    now = now or timezone.now()
    due: list[tuple[int, date]] = []
    for owner_id, time_zone in selectors.owners_following():
        local = _local_now(time_zone, now)
        if local.time() >= time(REMINDER_HOUR):
            due.append((owner_id, local.date()))
    done = selectors.reminded_owner_ids(due)
    created = []
    for owner_id, day in due:
        if (owner_id, day) in done:
            continue
        reminder = _remind_owner(owner_id, day, now=now)
        if reminder is not None:
            created.append(reminder)
    return created


def _remind_owner(owner_id: int, day: date, *, now: datetime) -> OwnerReminder | None:
    ids = selectors.handed_on_ids(owner_id, limit=REMINDER_CONVERSATIONS)
    if not ids:
        return None
    try:
        with transaction.atomic():
            reminder = OwnerReminder.objects.create(
                owner_id=owner_id, day=day, conversation_ids=ids, created_at=now
            )
            owner = User.objects.get(pk=owner_id)
            record_event(owner, action="routing.owner_reminded", actor=None, at=now,
                         data={"day": day.isoformat(), "conversation_ids": ids})  # fmt: skip
            publish(
                OwnerReminderDue(
                    audience=Audience(user_ids=frozenset({owner_id})),
                    reminder_id=reminder.pk,
                    owner_id=owner_id,
                    conversation_ids=tuple(ids),
                )
            )
    except IntegrityError:
        return None  # another run wrote today's reminder first
    return reminder


def claim_reminder_mail(reminder_id: int, *, at: datetime | None = None) -> bool:
    """True for exactly one caller: the one that mails the reminder (a conditional UPDATE)."""
    at = at or timezone.now()
    return (
        OwnerReminder.objects.filter(pk=reminder_id, mailed_at__isnull=True).update(mailed_at=at)
        == 1
    )
