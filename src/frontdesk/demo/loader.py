"""Realistic, reproducible demo data, made through the same services as real data.

The loader first plans everything in memory from one `random.Random(seed)`,
so a seed always yields the same people, texts, statuses and time offsets,
then writes the plan through the services with `by=None` (the trusted system)
or, for replies and notes, as the agent who wrote them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Role, Team, User
from frontdesk.accounts.services import create_team, create_user
from frontdesk.conversations.models import (
    Channel,
    Conversation,
    CustomFieldDefinition,
    FieldKind,
    Message,
    Priority,
    Status,
)
from frontdesk.conversations.services import (
    add_customer_message,
    add_note,
    add_reply,
    create_conversation,
    create_field_definition,
    set_status,
)
from frontdesk.core.errors import Conflict, InvalidInput
from frontdesk.core.models import Via
from frontdesk.customers.models import Company, Customer
from frontdesk.customers.services import create_company, create_customer
from frontdesk.demo.content import PRODUCT_AREAS, CompanyInfo, Scenario, render
from frontdesk.demo.languages import LANGUAGES, PACKS
from frontdesk.demo.rules import create_service_setup

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - printed in the docs on purpose
TEAM_NAMES = ("Orders", "Returns", "Technical", "Billing")
STAFF_DOMAIN = "frontdesk.example"
MAX_CONVERSATIONS = 100_000

CUSTOMERS_PER_LANGUAGE = {"en": 40, "pl": 34, "cs": 30, "ru": 32, "id": 32, "th": 32}
LANGUAGE_WEIGHTS = {"en": 28, "pl": 16, "cs": 14, "ru": 15, "id": 14, "th": 13}
CHANNEL_WEIGHTS: dict[str, int] = {
    Channel.EMAIL: 34,
    Channel.PORTAL: 14,
    Channel.CHAT: 16,
    Channel.PHONE: 12,
    Channel.VISIT: 5,
    Channel.MESSAGING: 11,
    Channel.API: 8,
}
STATUS_WEIGHTS: dict[str, int] = {
    Status.NEW: 9,
    Status.OPEN: 14,
    Status.PENDING: 14,
    Status.ON_HOLD: 6,
    Status.SOLVED: 22,
    Status.CLOSED: 35,
}

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
SPAN_DAYS = 90

# How long ago a conversation in each final status was opened: fresh ones are
# still new, the oldest have long been closed.
AGE_RANGES: dict[str, tuple[int, int]] = {
    Status.NEW: (1 * _HOUR, 3 * _DAY),
    Status.OPEN: (3 * _HOUR, 14 * _DAY),
    Status.PENDING: (12 * _HOUR, 20 * _DAY),
    Status.ON_HOLD: (2 * _DAY, 30 * _DAY),
    Status.SOLVED: (1 * _DAY, 45 * _DAY),
    Status.CLOSED: (8 * _DAY, SPAN_DAYS * _DAY),
}
# The gap before each kind of step, in seconds.
DELAYS = {
    "note": (5 * _MINUTE, 3 * _HOUR),
    "reply": (10 * _MINUTE, 10 * _HOUR),
    "customer": (1 * _HOUR, 2 * _DAY),
    "second_reply": (10 * _MINUTE, 8 * _HOUR),
    "status": (5 * _MINUTE, 2 * _HOUR),
    "close": (3 * _DAY, 7 * _DAY),
}
PRIORITIES = {"low": Priority.LOW, "normal": Priority.NORMAL, "high": Priority.HIGH}


@dataclass(frozen=True)
class AgentSpec:
    first_name: str
    last_name: str
    email: str
    female: bool
    team: str
    languages: tuple[str, ...]  # the first is the agent's own
    supervisor: bool = False
    latin_name: str = ""  # how they sign in languages written in another script

    def signature(self, language: str) -> str:
        if language == self.languages[0] or not self.latin_name:
            return self.first_name
        return self.latin_name


def _staff(local: str) -> str:
    return f"{local}@{STAFF_DOMAIN}"


# Each team can answer all six languages between its three people.
AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("Emily", "Carter", _staff("emily.carter"), True, "Orders", ("en",), True),
    AgentSpec("Marta", "Kowalska", _staff("marta.kowalska"), True, "Orders",
              ("pl", "cs", "ru", "en")),
    AgentSpec("นิรันดร์", "ศรีสุข", _staff("niran.srisuk"), False, "Orders", ("th", "id", "en"),
              latin_name="Niran"),
    AgentSpec("Tomáš", "Dvořák", _staff("tomas.dvorak"), False, "Returns", ("cs", "pl", "en"),
              True),
    AgentSpec("Ольга", "Смирнова", _staff("olga.smirnova"), True, "Returns", ("ru", "en"),
              latin_name="Olga"),
    AgentSpec("Dewi", "Lestari", _staff("dewi.lestari"), True, "Returns", ("id", "th", "en")),
    AgentSpec("Piotr", "Zieliński", _staff("piotr.zielinski"), False, "Technical",
              ("pl", "cs", "ru", "en"), True),
    AgentSpec("Daniel", "Hughes", _staff("daniel.hughes"), False, "Technical", ("en",)),
    AgentSpec("อนงค์", "วงศ์สวัสดิ์", _staff("anong.wongsawat"), True, "Technical",
              ("th", "id", "en"), latin_name="Anong"),
    AgentSpec("Иван", "Петров", _staff("ivan.petrov"), False, "Billing", ("ru", "en"), True,
              latin_name="Ivan"),
    AgentSpec("Kateřina", "Horáková", _staff("katerina.horakova"), True, "Billing",
              ("cs", "pl", "ru", "en")),
    AgentSpec("Budi", "Santoso", _staff("budi.santoso"), False, "Billing", ("id", "th", "en")),
)  # fmt: skip


@dataclass(frozen=True)
class CompanySpec:
    info: CompanyInfo
    language: str


@dataclass(frozen=True)
class CustomerSpec:
    name: str
    first_name: str
    female: bool
    language: str
    email: str
    phone: str
    company: int | None  # index into the planned companies
    vip: bool


@dataclass(frozen=True)
class Step:
    action: str  # "note", "reply", "customer" or "status"
    at: datetime
    author: int | None  # index into AGENTS; None for the customer or the system
    text: str = ""
    status: str = ""  # the status a reply or status step moves to


@dataclass(frozen=True)
class ConversationPlan:
    customer: int
    language: str
    subject: str
    opening: str
    channel: str
    status: str
    priority: int
    team: str
    assignee: int | None
    tags: tuple[str, ...]
    fields: Mapping[str, str]
    created_at: datetime
    steps: tuple[Step, ...]


# --- planning (pure: no database) ------------------------------------------------------------


def demo_anchor(now: datetime | None = None) -> datetime:
    """Midnight UTC of today: every demo timestamp is this minus a planned offset."""
    now = now or timezone.now()
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def plan_people(rng: random.Random) -> tuple[list[CompanySpec], list[CustomerSpec]]:
    companies: list[CompanySpec] = []
    customers: list[CustomerSpec] = []
    used_emails: set[str] = set()
    used_phones: set[str] = set()
    for language in LANGUAGES:
        pack = PACKS[language]
        first_company = len(companies)
        companies.extend(CompanySpec(info, language) for info in pack.companies)
        for _index in range(CUSTOMERS_PER_LANGUAGE[language]):
            female = rng.random() < 0.5
            first = rng.choice(pack.female_names if female else pack.male_names)
            masculine, feminine = rng.choice(pack.surnames)
            last = feminine if female else masculine
            company: int | None = None
            if rng.random() < 0.72:
                company = (
                    first_company + rng.choices(range(len(pack.companies)), (3, 2, 2, 2, 1))[0]
                )
            local = f"{pack.ascii_name(first)}.{pack.ascii_name(last)}"
            if company is None:
                domain = pack.mail_domain
                local += rng.choice(("", "", str(rng.randint(1, 99))))
            else:
                domain = companies[company].info.domain
            email = _unique(f"{local}@{domain}", used_emails)
            phone = ""
            if rng.random() < 0.6:
                phone = pack.phone(rng)
                while phone in used_phones:
                    phone = pack.phone(rng)
                used_phones.add(phone)
            key_account = company is not None and companies[company].info.key_account
            customers.append(
                CustomerSpec(
                    name=f"{first} {last}",
                    first_name=first,
                    female=female,
                    language=language,
                    email=email,
                    phone=phone,
                    company=company,
                    vip=key_account or rng.random() < 0.04,
                )
            )
    return companies, customers


def _unique(email: str, used: set[str]) -> str:
    candidate = email
    local, domain = email.split("@")
    number = 1
    while candidate in used:
        number += 1
        candidate = f"{local}{number}@{domain}"
    used.add(candidate)
    return candidate


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def plan_conversations(
    rng: random.Random, count: int, customers: Sequence[CustomerSpec], anchor: datetime
) -> list[ConversationPlan]:
    """`count` conversations, oldest first; every language, channel and status early on."""
    by_language: dict[str, list[int]] = {code: [] for code in LANGUAGES}
    for index, customer in enumerate(customers):
        by_language[customer.language].append(index)
    statuses = list(STATUS_WEIGHTS)
    channels = list(CHANNEL_WEIGHTS)
    plans: list[tuple[datetime, int, ConversationPlan]] = []
    for index in range(count):
        # The first few walk every value, so even a small demo shows them all.
        language = LANGUAGES[index] if index < len(LANGUAGES) else _weighted(rng, LANGUAGE_WEIGHTS)
        channel = channels[index] if index < len(channels) else _weighted(rng, CHANNEL_WEIGHTS)
        status = statuses[index] if index < len(statuses) else _weighted(rng, STATUS_WEIGHTS)
        customer_index = rng.choice(by_language[language])
        plan = _plan_one(
            rng,
            customers[customer_index],
            customer_index=customer_index,
            channel=channel,
            status=status,
            anchor=anchor,
        )
        plans.append((plan.created_at, index, plan))
    plans.sort(key=lambda item: (item[0], item[1]))
    return [plan for _at, _index, plan in plans]


def _plan_one(
    rng: random.Random,
    customer: CustomerSpec,
    *,
    customer_index: int,
    channel: str,
    status: str,
    anchor: datetime,
) -> ConversationPlan:
    pack = PACKS[customer.language]
    scenario = rng.choice(pack.scenarios)
    values = {
        "order": f"FD-{rng.randint(100000, 999999)}",
        "invoice": pack.invoice(rng),
        "amount": pack.money(rng),
        "name": customer.first_name,
    }
    members = [i for i, agent in enumerate(AGENTS) if agent.team == scenario.team]
    speakers = [i for i in members if customer.language in AGENTS[i].languages] or members
    assignee: int | None = rng.choice(speakers)
    if status == Status.NEW and rng.random() < 0.6:
        assignee = None
    author = assignee if assignee is not None else rng.choice(speakers)
    age = rng.randint(*AGE_RANGES[status])
    created_at = anchor - timedelta(seconds=age)

    drafts = _draft_steps(rng, scenario, status, author)
    steps = _schedule(rng, drafts, created_at, budget=age - _MINUTE)
    rendered = tuple(
        Step(
            action=step.action,
            at=step.at,
            author=step.author,
            status=step.status,
            text=_text(step, customer, values) if step.text else "",
        )
        for step in steps
    )

    priority = int(PRIORITIES[scenario.priority])
    if customer.vip and priority < Priority.HIGH and rng.random() < 0.5:
        priority += 1
    if rng.random() < 0.04:
        priority = Priority.URGENT
    tags = scenario.tags + (("vip",) if customer.vip else ())
    fields: dict[str, str] = {}
    if scenario.mentions_order:
        fields["order_number"] = values["order"]
    if scenario.area:
        fields["product_area"] = scenario.area
    return ConversationPlan(
        customer=customer_index,
        language=customer.language,
        subject=render(scenario.subject, female=customer.female, values=values),
        opening=render(scenario.opening, female=customer.female, values=values),
        channel=channel,
        status=status,
        priority=priority,
        team=scenario.team,
        assignee=assignee,
        tags=tags,
        fields=fields,
        created_at=created_at,
        steps=rendered,
    )


def _text(step: Step, customer: CustomerSpec, values: Mapping[str, str]) -> str:
    if step.author is None:
        return render(step.text, female=customer.female, values={**values, "agent": ""})
    agent = AGENTS[step.author]
    signed = {**values, "agent": agent.signature(customer.language)}
    return render(step.text, female=agent.female, values=signed)


@dataclass(frozen=True)
class _Draft:
    """A step before it has a time: the kind of delay that precedes it, and what it does."""

    delay: str
    action: str
    author: int | None
    text: str = ""
    status: str = ""


def _draft_steps(rng: random.Random, scenario: Scenario, status: str, author: int) -> list[_Draft]:
    first_note = _Draft("note", "note", author, scenario.notes[0])
    later_note = (
        _Draft("note", "note", author, scenario.notes[1]) if len(scenario.notes) > 1 else None
    )
    follows_up = bool(scenario.follow_up) and rng.random() < 0.75
    drafts: list[_Draft] = []
    if status == Status.NEW:
        if rng.random() < 0.3:
            drafts.append(first_note)
        return drafts
    if rng.random() < 0.6:
        drafts.append(first_note)
    if status == Status.OPEN and not follows_up:
        # Picked up and being worked on, no answer yet.
        if first_note not in drafts:
            drafts.append(first_note)
        drafts.append(_Draft("status", "status", author, status=Status.OPEN))
        return drafts
    if status == Status.ON_HOLD:
        drafts.append(_Draft("reply", "reply", author, scenario.reply, Status.ON_HOLD))
        drafts.append(later_note or first_note)
        return drafts
    if status == Status.PENDING:
        drafts.append(_Draft("reply", "reply", author, scenario.reply, Status.PENDING))
        return drafts
    # open (after a follow-up), solved and closed
    after_reply = Status.PENDING if follows_up else Status.SOLVED
    drafts.append(_Draft("reply", "reply", author, scenario.reply, after_reply))
    if later_note is not None and rng.random() < 0.5:
        drafts.append(later_note)
    if follows_up:
        drafts.append(_Draft("customer", "customer", None, scenario.follow_up))
        if status == Status.OPEN:
            return drafts
        drafts.append(_Draft("second_reply", "reply", author, scenario.second_reply, Status.SOLVED))
    if status == Status.CLOSED:
        # Solved conversations close by themselves after a few quiet days.
        drafts.append(_Draft("close", "status", None, status=Status.CLOSED))
    return drafts


def _schedule(
    rng: random.Random, drafts: Sequence[_Draft], start: datetime, *, budget: int
) -> list[Step]:
    """Give each draft a time after the previous one, squeezed to end before the anchor."""
    delays = [rng.randint(*DELAYS[draft.delay]) for draft in drafts]
    total = sum(delays)
    if total > budget:
        delays = [max(1, delay * budget // total) for delay in delays]
    steps: list[Step] = []
    at = start
    for draft, delay in zip(drafts, delays, strict=True):
        at += timedelta(seconds=delay)
        steps.append(Step(draft.action, at, draft.author, draft.text, draft.status))
    return steps


# --- writing ---------------------------------------------------------------------------------


def load_demo(
    conversations: int = 1000, seed: int = 7, *, anchor: datetime | None = None
) -> dict[str, int]:
    """Fill an empty help desk with teams, agents, customers and conversations.

    Refuses with Conflict when demo data is already there, so running it twice
    never doubles anything. Returns how many of each thing it made.
    """
    if not 0 <= conversations <= MAX_CONVERSATIONS:
        raise InvalidInput(
            _("The number of conversations must be between 0 and %(max)d.")
            % {"max": MAX_CONVERSATIONS},
            field="conversations",
        )
    _refuse_if_loaded()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, nothing secret
    anchor = anchor or demo_anchor()
    company_specs, customer_specs = plan_people(rng)
    plans = plan_conversations(rng, conversations, customer_specs, anchor)

    messages_before = Message.objects.count()
    with transaction.atomic():
        _refuse_if_loaded()
        teams, agents = _create_staff()
        setup = create_service_setup(teams)
        fields = _create_field_definitions()
        customers = _create_customers(company_specs, customer_specs)
        for plan in plans:
            _create_conversation(plan, teams, agents, customers, fields)
        messages = Message.objects.count() - messages_before
    return {
        "teams": len(teams),
        "agents": len(agents),
        "customers": len(customers),
        "companies": len(company_specs),
        "conversations": len(plans),
        "messages": messages,
        **setup,
    }


def _refuse_if_loaded() -> None:
    existing = Team.objects.filter(name__in=TEAM_NAMES).order_by("name").first()
    if existing is not None:
        raise Conflict(
            _("Demo data is already loaded (the team “%(team)s” exists); nothing was added.")
            % {"team": existing.name}
        )
    if User.objects.filter(email__in=[agent.email for agent in AGENTS]).exists():
        raise Conflict(_("Demo data is already loaded (the demo agents exist); nothing was added."))


def _create_staff() -> tuple[dict[str, Team], list[User]]:
    users = [
        create_user(
            by=None,
            email=spec.email,
            password=DEMO_PASSWORD,
            role=Role.SUPERVISOR if spec.supervisor else Role.AGENT,
            first_name=spec.first_name,
            last_name=spec.last_name,
            languages=spec.languages,
            via=Via.SYSTEM,
        )
        for spec in AGENTS
    ]
    teams: dict[str, Team] = {}
    for name in TEAM_NAMES:
        members = [user for user, spec in zip(users, AGENTS, strict=True) if spec.team == name]
        lead = next(
            user
            for user, spec in zip(users, AGENTS, strict=True)
            if spec.team == name and spec.supervisor
        )
        teams[name] = create_team(by=None, name=name, lead=lead, members=members, via=Via.SYSTEM)
    return teams, users


def _create_field_definitions() -> set[str]:
    """The demo's two fields; a key someone already defined is left alone and left empty."""
    existing = set(CustomFieldDefinition.objects.values_list("key", flat=True))
    wanted = [
        ("order_number", "Order number", FieldKind.TEXT, ()),
        ("product_area", "Product area", FieldKind.CHOICE, PRODUCT_AREAS),
    ]
    created: set[str] = set()
    for position, (key, label, kind, choices) in enumerate(wanted, start=1):
        if key in existing:
            continue
        create_field_definition(
            by=None, key=key, label=label, kind=kind, choices=choices, position=position,
            via=Via.SYSTEM,
        )  # fmt: skip
        created.add(key)
    return created


def _create_customers(
    company_specs: Sequence[CompanySpec], customer_specs: Sequence[CustomerSpec]
) -> list[Customer]:
    companies: list[Company] = [
        create_company(
            by=None,
            name=spec.info.name,
            domains=[spec.info.domain],
            notes="Key account: answer within four working hours." if spec.info.key_account else "",
            via=Via.SYSTEM,
        )
        for spec in company_specs
    ]
    return [
        create_customer(
            by=None,
            name=spec.name,
            emails=[spec.email],
            phones=[spec.phone] if spec.phone else [],
            company=companies[spec.company] if spec.company is not None else None,
            language=spec.language,
            time_zone=PACKS[spec.language].time_zone,
            notes="VIP customer." if spec.vip else "",
            via=Via.SYSTEM,
        )
        for spec in customer_specs
    ]


def _create_conversation(
    plan: ConversationPlan,
    teams: Mapping[str, Team],
    agents: Sequence[User],
    customers: Sequence[Customer],
    fields: set[str],
) -> Conversation:
    conversation = create_conversation(
        by=None,
        customer=customers[plan.customer],
        subject=plan.subject,
        channel=plan.channel,
        text=plan.opening,
        team=teams[plan.team],
        assignee=agents[plan.assignee] if plan.assignee is not None else None,
        priority=plan.priority,
        tags=plan.tags,
        fields={key: value for key, value in plan.fields.items() if key in fields},
        language=plan.language,
        via=Via.SYSTEM,
        at=plan.created_at,
    )
    for step in plan.steps:
        if step.action == "customer":
            add_customer_message(conversation, by=None, text=step.text, via=Via.SYSTEM, at=step.at)
        elif step.action == "status":
            author = agents[step.author] if step.author is not None else None
            set_status(conversation, by=author, status=step.status, via=Via.SYSTEM, at=step.at)
        elif step.action == "note":
            add_note(conversation, by=_agent(agents, step), text=step.text, via=Via.SYSTEM,
                     at=step.at)  # fmt: skip
        else:
            add_reply(
                conversation, by=_agent(agents, step), text=step.text,
                status=step.status or None, via=Via.SYSTEM, at=step.at,
            )  # fmt: skip
    return conversation


def _agent(agents: Sequence[User], step: Step) -> User:
    if step.author is None:
        raise ValueError(f"a {step.action} needs an agent")
    return agents[step.author]
