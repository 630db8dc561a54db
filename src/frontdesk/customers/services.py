"""The only writers of customers, companies, identities and company domains.

Each write checks the actor's permission, validates, writes the change and one
audit row in one transaction, and publishes a domain event on commit.
`by=None` is a trusted system actor (mail intake, automation, the demo loader).

Who may do what: admins, supervisors and agents create and update customers;
only admins delete them; supervisors and admins create, update and delete
companies. A customer user who is not allowed to see the record gets NotFound,
so a refusal never confirms that someone else's record exists.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Role, Team, User
from frontdesk.accounts.services import normalize_language
from frontdesk.core.audit import record_event
from frontdesk.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.core.validation import clean_text
from frontdesk.customers.events import (
    CompanyCreated,
    CompanyDeleted,
    CompanyUpdated,
    CustomerCreated,
    CustomerDeleted,
    CustomerUpdated,
)
from frontdesk.customers.models import Company, CompanyDomain, Customer, Identity, IdentityKind
from frontdesk.customers.normalize import (
    email_domain_candidates,
    normalize_domain,
    normalize_email,
    normalize_phone,
)
from frontdesk.customers.selectors import (
    find_customer_by_email,
    visible_companies,
    visible_customers,
)

__all__ = [
    "create_company",
    "create_customer",
    "delete_company",
    "delete_customer",
    "get_or_create_customer_by_email",
    "merge_customer_rows",
    "normalize_domain",
    "normalize_email",
    "normalize_phone",
    "update_company",
    "update_customer",
]

CUSTOMER_EDITORS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
COMPANY_EDITORS = frozenset({Role.ADMIN, Role.SUPERVISOR})

CUSTOMER_FIELDS = frozenset(
    {"name", "company", "language", "time_zone", "notes", "external_id", "emails", "phones"}
)
COMPANY_FIELDS = frozenset({"name", "domains", "notes", "members_see_all"})

_IDENTITY_FIELDS: dict[str, str] = {IdentityKind.EMAIL: "emails", IdentityKind.PHONE: "phones"}


# --- helpers --------------------------------------------------------------------------------


@contextmanager
def _unique_or(error: ServiceError) -> Iterator[None]:
    """Turn a unique-constraint race into `error`, keeping the outer transaction usable."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise error from None


def _staff_audience() -> Audience:
    # Every team may look customers up; the customer is left out on purpose.
    return Audience(team_ids=frozenset(Team.objects.values_list("pk", flat=True)))


def _has_role(by: User, roles: frozenset[Role]) -> bool:
    return bool(by.is_active and (by.is_superuser or by.role in roles))


def _authorize_customer(
    by: User | None, customer: Customer | None, roles: frozenset[Role], message: str
) -> None:
    if by is None:
        return
    if customer is not None and not visible_customers(by).filter(pk=customer.pk).exists():
        raise NotFound(_("No such customer."))
    if not _has_role(by, roles):
        raise PermissionDenied(message)


def _authorize_company(by: User | None, company: Company | None, message: str) -> None:
    if by is None:
        return
    if company is not None and not visible_companies(by).filter(pk=company.pk).exists():
        raise NotFound(_("No such company."))
    if not _has_role(by, COMPANY_EDITORS):
        raise PermissionDenied(message)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(value: Any) -> str:
    zone = clean_text(value, field="time_zone", max_length=64)
    if zone and zone not in _time_zones():
        raise InvalidInput(
            _("%(value)s is not a time zone such as Europe/Prague.") % {"value": zone},
            field="time_zone",
        )
    return zone


def _language(value: Any) -> str:
    tag = normalize_language(clean_text(value, field="language"), field="language")
    if len(tag) > 10:
        raise InvalidInput(
            _("%(value)s is not a language code such as en or pt-br.") % {"value": value},
            field="language",
        )
    return tag


def _company(value: Any) -> Company | None:
    if value is None:
        return None
    if not isinstance(value, Company) or value.pk is None:
        raise InvalidInput(_("Choose an existing company."), field="company")
    return value


def _bool(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("Give this as true or false."), field=field)
    return value


def _list_of_text(values: Any, *, field: str) -> list[str]:
    # A bare string is a sequence too; taking it letter by letter would be a silent mess.
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInput(_("Give a list of values."), field=field)
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput(_("Give a list of values."), field=field)
    return list(values)


_CUSTOMER_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "name": lambda value: clean_text(value, field="name", max_length=200),
    "company": _company,
    "language": _language,
    "time_zone": _time_zone,
    "notes": lambda value: clean_text(value, field="notes"),
    "external_id": lambda value: clean_text(value, field="external_id", max_length=200),
}


def _identity_pairs(kind: str, values: Any) -> list[tuple[str, str]]:
    """(as written, normalised) for each distinct value, in the order given."""
    field = _IDENTITY_FIELDS[kind]
    normalize = normalize_email if kind == IdentityKind.EMAIL else normalize_phone
    pairs: dict[str, str] = {}
    for value in _list_of_text(values, field=field):
        normalized = normalize(value, field=field)
        pairs.setdefault(normalized, clean_text(value, field=field, max_length=254))
    return [(written, normalized) for normalized, written in pairs.items()]


def _belongs_to_another(kind: str, written: str) -> InvalidInput:
    return InvalidInput(
        _("%(value)s belongs to another customer.") % {"value": written},
        field=_IDENTITY_FIELDS[kind],
    )


def _check_identities_free(
    kind: str, pairs: list[tuple[str, str]], customer_id: int | None
) -> None:
    taken = Identity.objects.filter(kind=kind, normalized__in=[n for _w, n in pairs])
    if customer_id is not None:
        taken = taken.exclude(customer_id=customer_id)
    taken_keys = set(taken.values_list("normalized", flat=True))
    for written, normalized in pairs:
        if normalized in taken_keys:
            raise _belongs_to_another(kind, written)


def _set_identities(customer: Customer, kind: str, pairs: list[tuple[str, str]]) -> None:
    """Make `customer`'s identities of `kind` exactly `pairs`, the first one primary."""
    _check_identities_free(kind, pairs, customer.pk)
    wanted = {normalized for _w, normalized in pairs}
    current = {i.normalized: i for i in Identity.objects.filter(customer=customer, kind=kind)}
    Identity.objects.filter(pk__in=[i.pk for n, i in current.items() if n not in wanted]).delete()
    for index, (written, normalized) in enumerate(pairs):
        identity = current.get(normalized)
        if identity is None:
            with _unique_or(_belongs_to_another(kind, written)):
                Identity.objects.create(
                    customer=customer,
                    kind=kind,
                    value=written,
                    normalized=normalized,
                    is_primary=index == 0,
                )
        elif identity.value != written or identity.is_primary != (index == 0):
            identity.value = written
            identity.is_primary = index == 0
            identity.save(update_fields=["value", "is_primary"])


def _identity_rows(customer: Customer, kind: str) -> list[tuple[str, str]]:
    """(as written, normalised) of `customer`'s identities of `kind`, primary first."""
    rows = Identity.objects.filter(customer=customer, kind=kind).order_by("-is_primary", "id")
    return [(row.value, row.normalized) for row in rows]


def _external_id_taken() -> InvalidInput:
    return InvalidInput(_("Another customer has this external id."), field="external_id")


def _fresh_customer(pk: int) -> Customer:
    return Customer.objects.select_related("company").prefetch_related("identities").get(pk=pk)


def _fresh_company(pk: int) -> Company:
    return Company.objects.prefetch_related("domains").get(pk=pk)


def _identity_keys(customer: Customer, kind: str) -> list[str]:
    return list(
        Identity.objects.filter(customer=customer, kind=kind)
        .order_by("-is_primary", "id")
        .values_list("normalized", flat=True)
    )


# --- customers ------------------------------------------------------------------------------


def create_customer(
    *,
    by: User | None,
    name: str = "",
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    company: Company | None = None,
    language: str = "",
    time_zone: str = "",
    notes: str = "",
    external_id: str = "",
    via: str = Via.SYSTEM,
) -> Customer:
    """Add a customer; the first email and the first phone become primary."""
    _authorize_customer(by, None, CUSTOMER_EDITORS, _("You may not add customers."))
    given = {
        "name": name,
        "company": company,
        "language": language,
        "time_zone": time_zone,
        "notes": notes,
        "external_id": external_id,
    }
    values = {key: _CUSTOMER_VALIDATORS[key](value) for key, value in given.items()}
    email_pairs = _identity_pairs(IdentityKind.EMAIL, emails)
    phone_pairs = _identity_pairs(IdentityKind.PHONE, phones)

    with transaction.atomic():
        if (
            values["external_id"]
            and Customer.objects.filter(external_id=values["external_id"]).exists()
        ):
            raise _external_id_taken()
        _check_identities_free(IdentityKind.EMAIL, email_pairs, None)
        _check_identities_free(IdentityKind.PHONE, phone_pairs, None)
        with _unique_or(_external_id_taken()):
            customer = Customer.objects.create(**values)
        _set_identities(customer, IdentityKind.EMAIL, email_pairs)
        _set_identities(customer, IdentityKind.PHONE, phone_pairs)
        _record_customer_created(customer, by=by, via=via)
    return _fresh_customer(customer.pk)


def _record_customer_created(
    customer: Customer,
    *,
    by: User | None,
    via: str,
    emails: Sequence[str] | None = None,
    phones: Sequence[str] | None = None,
) -> None:
    """The audit row and event; `emails` and `phones` (normalized) when the caller knows them."""
    record_event(
        customer,
        action="customer.created",
        actor=by,
        via=via,
        data={
            "name": customer.name,
            "company_id": customer.company_id,
            "emails": (
                list(emails) if emails is not None
                else _identity_keys(customer, IdentityKind.EMAIL)
            ),
            "phones": (
                list(phones) if phones is not None
                else _identity_keys(customer, IdentityKind.PHONE)
            ),
        },
    )  # fmt: skip
    publish(
        CustomerCreated(
            audience=_staff_audience(), customer_id=customer.pk, company_id=customer.company_id
        )
    )


def update_customer(
    customer: Customer, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> Customer:
    """Change any of name, company, language, time_zone, notes, external_id, emails, phones.

    `emails` and `phones` replace the customer's list; the first of each is primary.
    Changing nothing writes nothing and publishes nothing.
    """
    _authorize_customer(by, customer, CUSTOMER_EDITORS, _("You may not change customers."))
    for key in changes:
        if key not in CUSTOMER_FIELDS:
            raise InvalidInput(_("Customers have no field %(key)s.") % {"key": key}, field=key)
    scalar = {
        key: _CUSTOMER_VALIDATORS[key](value)
        for key, value in changes.items()
        if key in _CUSTOMER_VALIDATORS
    }
    identities = {
        kind: _identity_pairs(kind, changes[field])
        for kind, field in _IDENTITY_FIELDS.items()
        if field in changes
    }

    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        diff: dict[str, dict[str, Any]] = {}
        for key, new in scalar.items():
            attname = "company_id" if key == "company" else key
            old = getattr(locked, attname)
            new_value = new.pk if key == "company" and new is not None else new
            if old != new_value:
                diff[key] = {"from": old, "to": new_value}
                setattr(locked, key, new)
        for kind, pairs in identities.items():
            before = _identity_rows(locked, kind)
            if before != pairs:
                _set_identities(locked, kind, pairs)
                diff[_IDENTITY_FIELDS[kind]] = {
                    "from": [normalized for _w, normalized in before],
                    "to": [normalized for _w, normalized in pairs],
                }
        if not diff:
            return _fresh_customer(locked.pk)
        if "external_id" in diff and locked.external_id:
            if (
                Customer.objects.filter(external_id=locked.external_id)
                .exclude(pk=locked.pk)
                .exists()
            ):
                raise _external_id_taken()
        locked.updated_at = timezone.now()
        with _unique_or(_external_id_taken()):
            locked.save()
        changed = tuple(sorted(diff))
        record_event(locked, action="customer.updated", actor=by, via=via, data={"changes": diff})
        publish(CustomerUpdated(audience=_staff_audience(), customer_id=locked.pk, changed=changed))
    return _fresh_customer(locked.pk)


def delete_customer(customer: Customer, *, by: User | None, via: str = Via.SYSTEM) -> None:
    """Remove a customer and their identities; refused while conversations refer to them.

    Their portal login, if any, is deactivated: it would otherwise sign in to
    a portal with no customer behind it.
    """
    _authorize_customer(by, customer, frozenset({Role.ADMIN}), _("Only admins delete customers."))
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        record_event(
            locked,
            action="customer.deleted",
            actor=by,
            via=via,
            data={
                "name": locked.name,
                "emails": _identity_keys(locked, IdentityKind.EMAIL),
                "phones": _identity_keys(locked, IdentityKind.PHONE),
                "user_id": locked.user_id,
            },
        )
        login_id = locked.user_id
        deleted_id = locked.pk
        try:
            with transaction.atomic():
                locked.delete()
        except (ProtectedError, RestrictedError):
            raise Conflict(
                _("This customer has conversations, so they cannot be deleted.")
            ) from None
        if login_id is not None:
            User.objects.filter(pk=login_id, role=Role.CUSTOMER).update(is_active=False)
        publish(CustomerDeleted(audience=_staff_audience(), customer_id=deleted_id))


@dataclass(frozen=True)
class MergedRows:
    """What `merge_customer_rows` changed, for the caller's audit rows and event."""

    source: Customer
    target: Customer
    identity_ids: tuple[int, ...]
    moved_login_id: int | None
    repointed_ids: tuple[int, ...]


def merge_customer_rows(source: Customer, *, into: Customer) -> MergedRows:
    """The customer half of a merge: `source`'s identities and portal login go to `into`.

    `source` is kept and points to `into`; customers merged into `source` earlier
    are pointed to `into` too, so a merged customer always points to a live one.
    Only `conversations.services.merge_customers` calls this: that service owns
    the transaction, the permission check, the audit rows and the event, because
    the conversations move in the same transaction.
    """
    if source.pk == into.pk:
        raise InvalidInput(_("A customer cannot be merged into itself."), field="into")
    with transaction.atomic():
        # Both rows in id order, so two opposite merges cannot deadlock.
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=(source.pk, into.pk))
            .order_by("pk")
        }
        if len(locked) != 2:
            raise NotFound(_("No such customer."))
        src, target = locked[source.pk], locked[into.pk]
        if src.merged_into_id is not None:
            raise Conflict(_("%(name)s is already merged into another customer.") % {"name": src})
        if target.merged_into_id is not None:
            raise Conflict(
                _("%(name)s is merged into another customer; merge into that one instead.")
                % {"name": target},
                field="into",
            )
        if src.user_id is not None and target.user_id is not None:
            # One portal login per customer: which of two people's passwords wins is
            # not a choice to make silently.
            raise Conflict(
                _("Both customers sign in to the portal; only one of them may have a login."),
                field="into",
            )
        moving = list(Identity.objects.filter(customer=src).order_by("id"))
        target_primaries = set(
            Identity.objects.filter(customer=target, is_primary=True).values_list("kind", flat=True)
        )
        for identity in moving:
            identity.customer = target
            identity.is_primary = identity.is_primary and identity.kind not in target_primaries
            identity.save(update_fields=["customer", "is_primary"])
        repointed = tuple(
            Customer.objects.filter(merged_into=src).order_by("pk").values_list("pk", flat=True)
        )
        Customer.objects.filter(pk__in=repointed).update(merged_into=target)
        now = timezone.now()
        login_id = src.user_id
        src.user = None
        src.merged_into = target
        src.updated_at = now
        src.save(update_fields=["user", "merged_into", "updated_at"])
        if login_id is not None:
            target.user_id = login_id
        target.updated_at = now
        target.save(update_fields=["user", "updated_at"])
    return MergedRows(
        source=src,
        target=target,
        identity_ids=tuple(i.pk for i in moving),
        moved_login_id=login_id,
        repointed_ids=repointed,
    )


def _company_for_email(email: str) -> Company | None:
    candidates = email_domain_candidates(email)
    if not candidates:
        return None
    domains = {
        d.domain: d
        for d in CompanyDomain.objects.filter(domain__in=candidates).select_related("company")
    }
    for candidate in candidates:
        if candidate in domains:
            return domains[candidate].company
    return None


def get_or_create_customer_by_email(
    email: str, *, name: str = "", via: str = Via.SYSTEM, with_details: bool = True
) -> tuple[Customer, bool]:
    """The customer who owns `email`, created (with the company of its domain) if none does.

    For intake: a long display name is shortened rather than refused, so no
    message is lost over it. Safe against a concurrent intake of the same sender.
    `with_details=False` returns the bare row (identities not loaded): the mail
    intake needs only the customer's id and company, once per message.
    """
    normalized = normalize_email(email, field="email")
    existing = find_customer_by_email(normalized, with_details=with_details)
    if existing is not None:
        return existing, False
    written = email.strip()
    clean_name = name.strip()[:200] if isinstance(name, str) else ""
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                name=clean_name, company=_company_for_email(normalized)
            )
            Identity.objects.create(
                customer=customer,
                kind=IdentityKind.EMAIL,
                value=written[:254],
                normalized=normalized,
                is_primary=True,
            )
            _record_customer_created(customer, by=None, via=via, emails=[normalized], phones=[])
    except IntegrityError:
        # Another intake created this sender between our look-up and insert.
        raced = find_customer_by_email(normalized, with_details=with_details)
        if raced is None:
            raise
        return raced, False
    return (_fresh_customer(customer.pk) if with_details else customer), True


# --- companies ------------------------------------------------------------------------------


def _domain_list(values: Any) -> list[str]:
    domains: list[str] = []
    for value in _list_of_text(values, field="domains"):
        domain = normalize_domain(value, field="domains")
        if domain not in domains:
            domains.append(domain)
    return domains


def _domain_taken(domain: str) -> InvalidInput:
    return InvalidInput(
        _("%(value)s belongs to another company.") % {"value": domain}, field="domains"
    )


def _set_domains(company: Company, domains: list[str]) -> None:
    taken = set(
        CompanyDomain.objects.filter(domain__in=domains)
        .exclude(company=company)
        .values_list("domain", flat=True)
    )
    for domain in domains:
        if domain in taken:
            raise _domain_taken(domain)
    CompanyDomain.objects.filter(company=company).exclude(domain__in=domains).delete()
    current = set(CompanyDomain.objects.filter(company=company).values_list("domain", flat=True))
    for domain in domains:
        if domain not in current:
            with _unique_or(_domain_taken(domain)):
                CompanyDomain.objects.create(company=company, domain=domain)


def _company_domains(company: Company) -> list[str]:
    return sorted(CompanyDomain.objects.filter(company=company).values_list("domain", flat=True))


def create_company(
    *,
    by: User | None,
    name: str,
    domains: Sequence[str] = (),
    notes: str = "",
    members_see_all: bool = False,
    via: str = Via.SYSTEM,
) -> Company:
    """Add a company; senders from its domains are attached to it when they first write."""
    _authorize_company(by, None, _("Only supervisors and admins add companies."))
    clean_name = clean_text(name, field="name", max_length=200, required=True)
    domain_list = _domain_list(domains)
    clean_notes = clean_text(notes, field="notes")
    see_all = _bool(members_see_all, field="members_see_all")
    with transaction.atomic():
        company = Company.objects.create(
            name=clean_name, notes=clean_notes, members_see_all=see_all
        )
        _set_domains(company, domain_list)
        record_event(
            company,
            action="company.created",
            actor=by,
            via=via,
            data={"name": clean_name, "domains": domain_list, "members_see_all": see_all},
        )
        publish(CompanyCreated(audience=_staff_audience(), company_id=company.pk))
    return _fresh_company(company.pk)


def update_company(
    company: Company, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> Company:
    """Change any of name, domains, notes, members_see_all; `domains` replaces the list."""
    _authorize_company(by, company, _("Only supervisors and admins change companies."))
    for key in changes:
        if key not in COMPANY_FIELDS:
            raise InvalidInput(_("Companies have no field %(key)s.") % {"key": key}, field=key)
    scalar: dict[str, Any] = {}
    if "name" in changes:
        scalar["name"] = clean_text(changes["name"], field="name", max_length=200, required=True)
    if "notes" in changes:
        scalar["notes"] = clean_text(changes["notes"], field="notes")
    if "members_see_all" in changes:
        scalar["members_see_all"] = _bool(changes["members_see_all"], field="members_see_all")
    domain_list = _domain_list(changes["domains"]) if "domains" in changes else None

    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        diff: dict[str, dict[str, Any]] = {}
        for key, new in scalar.items():
            old = getattr(locked, key)
            if old != new:
                diff[key] = {"from": old, "to": new}
                setattr(locked, key, new)
        if domain_list is not None:
            before = _company_domains(locked)
            if before != sorted(domain_list):
                _set_domains(locked, domain_list)
                diff["domains"] = {"from": before, "to": sorted(domain_list)}
        if not diff:
            return _fresh_company(locked.pk)
        locked.updated_at = timezone.now()
        locked.save()
        record_event(locked, action="company.updated", actor=by, via=via, data={"changes": diff})
        publish(
            CompanyUpdated(
                audience=_staff_audience(), company_id=locked.pk, changed=tuple(sorted(diff))
            )
        )
    return _fresh_company(locked.pk)


def delete_company(company: Company, *, by: User | None, via: str = Via.SYSTEM) -> None:
    """Remove a company and its domains; its customers and conversations keep existing."""
    _authorize_company(by, company, _("Only supervisors and admins delete companies."))
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        record_event(
            locked,
            action="company.deleted",
            actor=by,
            via=via,
            data={"name": locked.name, "domains": _company_domains(locked)},
        )
        deleted_id = locked.pk
        try:
            with transaction.atomic():
                locked.delete()
        except (ProtectedError, RestrictedError):
            raise Conflict(_("Other records still refer to this company.")) from None
        publish(CompanyDeleted(audience=_staff_audience(), company_id=deleted_id))


# --- portal logins --------------------------------------------------------------------------


def link_portal_user(
    customer: Customer, *, user: User, by: User | None = None, via: str = Via.SYSTEM
) -> Customer:
    """Make `user` (role customer) the portal login of `customer`.

    One login per customer and one customer per login: linking a second one is
    refused rather than silently moving someone's access. Called by the portal's
    email verification (by=None: the verified address is the proof) or by staff.
    """
    _authorize_customer(by, customer, CUSTOMER_EDITORS, _("You may not change customers."))
    if not user.is_customer:
        raise InvalidInput(_("Only customer accounts sign in to the portal."), field="user")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.user_id == user.pk:
            return _fresh_customer(locked.pk)
        if locked.user_id is not None:
            raise Conflict(_("This customer already has a portal login."), field="user")
        if Customer.objects.filter(user_id=user.pk).exists():
            raise Conflict(_("This login belongs to another customer."), field="user")
        locked.user = user
        locked.updated_at = timezone.now()
        locked.save(update_fields=["user", "updated_at"])
        record_event(
            locked, action="customer.portal_user_linked", actor=by, via=via,
            data={"user_id": user.pk},
        )  # fmt: skip
        publish(CustomerUpdated(audience=_staff_audience(), customer_id=locked.pk,
                                changed=("user",)))  # fmt: skip
    return _fresh_customer(locked.pk)


def set_customer_language(
    customer: Customer, *, by: User | None, language: str, via: str = Via.SYSTEM
) -> Customer:
    """The customer's own choice of language (the portal's switcher).

    Unlike update_customer, the customer's own portal login may call this; staff
    editors may too. "" clears it, so the browser decides again.
    """
    if by is not None and by.is_customer:
        if not (by.is_active and customer.user_id == by.pk):
            raise NotFound(_("No such customer."))
    else:
        _authorize_customer(by, customer, CUSTOMER_EDITORS, _("You may not change customers."))
    tag = _language(language)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.language == tag:
            return locked
        previous = locked.language
        locked.language = tag
        locked.updated_at = timezone.now()
        locked.save(update_fields=["language", "updated_at"])
        record_event(
            locked, action="customer.updated", actor=by, via=via,
            data={"changes": {"language": {"from": previous, "to": tag}}},
        )  # fmt: skip
        publish(CustomerUpdated(audience=_staff_audience(), customer_id=locked.pk,
                                changed=("language",)))  # fmt: skip
    return locked
