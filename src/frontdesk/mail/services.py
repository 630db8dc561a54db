"""The only writers of mailboxes.

Each write checks that the actor is an admin, validates the whole resulting
mailbox, writes it and one audit row in one transaction, and publishes a domain
event on commit. Passwords and tokens are encrypted here and never appear in
audit rows or events; only the names of changed secrets do.
`by=None` is a trusted system actor (the CLI, the demo loader).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Team, User
from frontdesk.accounts.permissions import require_admin
from frontdesk.core.audit import record_event
from frontdesk.core.errors import Conflict, InvalidInput
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.core.validation import clean_text
from frontdesk.mail import connection, intake
from frontdesk.mail.crypto import encrypt
from frontdesk.mail.events import (
    MailboxActiveChanged,
    MailboxChecked,
    MailboxCreated,
    MailboxUpdated,
)
from frontdesk.mail.models import ImapAuth, Mailbox, Quarantine, Security

MAX_SIGNATURE = 10_000
MAX_SECRET = 8_192
# A host name or an IP address literal; anything with spaces, slashes or a scheme is a paste error.
_HOST_RE = re.compile(r"^[A-Za-z0-9_.:\[\]-]+$")

# Which form field a secret's error lands on, and its name in audit rows and events.
_SECRETS = {
    "imap_password": "imap_password_encrypted",
    "imap_oauth2_token": "imap_oauth2_token_encrypted",
    "smtp_password": "smtp_password_encrypted",
}


@dataclass(frozen=True)
class MailboxCheck:
    """What the connection test found for both servers."""

    imap: connection.CheckResult
    smtp: connection.CheckResult

    @property
    def ok(self) -> bool:
        configured = [r for r in (self.imap, self.smtp) if r.configured]
        return bool(configured) and all(r.ok for r in configured)

    def summary(self) -> str:
        return "; ".join(text for text in (self.imap.summary(), self.smtp.summary()) if text)


# --- validation -----------------------------------------------------------------------------


def _email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("%(value)s is not an email address.") % {"value": value}, field="email"
        ) from None
    if len(email) > Mailbox._meta.get_field("email").max_length:  # type: ignore[operator]
        raise InvalidInput(_("This address is too long."), field="email")
    return email


def _host(value: str, *, field: str) -> str:
    host = clean_text(value, field=field, max_length=255)
    if host and not _HOST_RE.fullmatch(host):
        raise InvalidInput(
            _("%(value)s is not a host name such as imap.example.com.") % {"value": value},
            field=field,
        )
    return host


def _port(value: int, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidInput(_("A port is a number from 1 to 65535."), field=field)
    return value


def _security(value: str, *, field: str) -> str:
    if value not in Security.values:
        raise InvalidInput(_("Unknown security: %(value)s.") % {"value": value}, field=field)
    return value


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise each given (non-None) value on its own."""
    cleaners: dict[str, Any] = {
        "name": lambda v: clean_text(v, field="name", max_length=100, required=True),
        "email": _email,
        "display_name": lambda v: clean_text(v, field="display_name", max_length=100),
        "signature": lambda v: clean_text(v, field="signature", max_length=MAX_SIGNATURE),
        "auto_acknowledge": bool,
        "verify_certificates": bool,
        "imap_host": lambda v: _host(v, field="imap_host"),
        "imap_port": lambda v: _port(v, field="imap_port"),
        "imap_security": lambda v: _security(v, field="imap_security"),
        "imap_username": lambda v: clean_text(v, field="imap_username", max_length=255),
        "imap_folder": lambda v: clean_text(v, field="imap_folder", max_length=255),
        "smtp_host": lambda v: _host(v, field="smtp_host"),
        "smtp_port": lambda v: _port(v, field="smtp_port"),
        "smtp_security": lambda v: _security(v, field="smtp_security"),
        "smtp_username": lambda v: clean_text(v, field="smtp_username", max_length=255),
    }
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        clean[name] = cleaners[name](value) if name in cleaners else value
    if "imap_auth" in clean and clean["imap_auth"] not in ImapAuth.values:
        raise InvalidInput(
            _("Unknown sign-in method: %(value)s.") % {"value": clean["imap_auth"]},
            field="imap_auth",
        )
    if "default_team" in clean and not isinstance(clean["default_team"], Team):
        raise InvalidInput(_("Choose a team."), field="default_team")
    return clean


def _secrets(new: dict[str, str | None], clear: dict[str, bool]) -> dict[str, str]:
    """Encrypted values of the secrets to change: a new value, or "" to forget it.

    An empty or missing new value keeps what is stored: the edit form never shows a
    stored password, so leaving the field empty must not erase it.
    """
    changes: dict[str, str] = {}
    for name, column in _SECRETS.items():
        value = new.get(name)
        if value:
            if len(value) > MAX_SECRET:
                raise InvalidInput(
                    _("At most %(count)d characters, please.") % {"count": MAX_SECRET}, field=name
                )
            changes[column] = encrypt(value)
        elif clear.get(name):
            changes[column] = ""
    return changes


def _check_whole(mailbox: Mailbox) -> None:
    """Rules that span fields, on the mailbox as it would be saved."""
    imap_parts = mailbox.imap_username or mailbox.has_imap_password or mailbox.has_imap_oauth2_token
    if imap_parts and not mailbox.imap_host:
        raise InvalidInput(
            _("Give the IMAP host, or leave the IMAP sign-in empty."), field="imap_host"
        )
    if mailbox.imap_host:
        if not mailbox.imap_username:
            raise InvalidInput(_("The IMAP server needs a username."), field="imap_username")
        if not mailbox.imap_folder:
            raise InvalidInput(_("Name the folder to watch, such as INBOX."), field="imap_folder")
        if mailbox.imap_auth == ImapAuth.OAUTH2 and not mailbox.has_imap_oauth2_token:
            raise InvalidInput(
                _("Sign-in with OAuth2 needs an access token."), field="imap_oauth2_token"
            )
        if mailbox.imap_auth == ImapAuth.PASSWORD and not mailbox.has_imap_password:
            raise InvalidInput(_("The IMAP server needs a password."), field="imap_password")
    if (mailbox.smtp_username or mailbox.has_smtp_password) and not mailbox.smtp_host:
        raise InvalidInput(
            _("Give the SMTP host, or leave the SMTP sign-in empty."), field="smtp_host"
        )
    if mailbox.smtp_username and not mailbox.has_smtp_password:
        raise InvalidInput(
            _("An SMTP username needs a password; leave both empty to send without signing in."),
            field="smtp_password",
        )


def _address_taken() -> InvalidInput:
    return InvalidInput(_("Another mailbox already uses this address."), field="email")


def _audience(by: User | None, *teams: int | None) -> Audience:
    return Audience(
        user_ids=frozenset({by.pk} if by is not None else set()),
        team_ids=frozenset(team for team in teams if team is not None),
    )


def _audit_data(changed: dict[str, Any]) -> dict[str, Any]:
    """Changed values for the audit row; secrets only by name, teams by id."""
    data: dict[str, Any] = {}
    for name, value in changed.items():
        if name in _SECRETS.values():
            secret = next(key for key, column in _SECRETS.items() if column == name)
            data[secret] = "changed" if value else "removed"
        elif isinstance(value, Team):
            data[f"{name}_id"] = value.pk
        else:
            data[name] = value
    return data


def _public_names(changed: dict[str, Any]) -> tuple[str, ...]:
    reverse = {column: key for key, column in _SECRETS.items()}
    return tuple(sorted(reverse.get(name, name) for name in changed))


# --- writes ---------------------------------------------------------------------------------


def create_mailbox(
    *,
    by: User | None,
    name: str,
    email: str,
    display_name: str = "",
    default_team: Team | None = None,
    signature: str = "",
    auto_acknowledge: bool = False,
    verify_certificates: bool = True,
    imap_host: str = "",
    imap_port: int = 993,
    imap_security: str = Security.SSL,
    imap_username: str = "",
    imap_auth: str = ImapAuth.PASSWORD,
    imap_password: str = "",
    imap_oauth2_token: str = "",
    imap_folder: str = "INBOX",
    smtp_host: str = "",
    smtp_port: int = 587,
    smtp_security: str = Security.STARTTLS,
    smtp_username: str = "",
    smtp_password: str = "",
    via: str = Via.SYSTEM,
) -> Mailbox:
    """Add a mailbox. IMAP and SMTP are each optional, but each one given is complete."""
    require_admin(by, _("Only admins may add mailboxes."))
    values = _clean(
        {
            "name": name,
            "email": email,
            "display_name": display_name,
            "default_team": default_team,
            "signature": signature,
            "auto_acknowledge": auto_acknowledge,
            "verify_certificates": verify_certificates,
            "imap_host": imap_host,
            "imap_port": imap_port,
            "imap_security": imap_security,
            "imap_username": imap_username,
            "imap_auth": imap_auth,
            "imap_folder": imap_folder,
            "smtp_host": smtp_host,
            "smtp_port": smtp_port,
            "smtp_security": smtp_security,
            "smtp_username": smtp_username,
        }
    )
    secrets = _secrets(
        {
            "imap_password": imap_password,
            "imap_oauth2_token": imap_oauth2_token,
            "smtp_password": smtp_password,
        },
        {},
    )
    mailbox = Mailbox(**values, **secrets)
    _check_whole(mailbox)

    with transaction.atomic():
        if Mailbox.objects.filter(email__iexact=mailbox.email).exists():
            raise _address_taken()
        try:
            with transaction.atomic():
                mailbox.save()
        except IntegrityError:
            raise _address_taken() from None
        record_event(
            mailbox,
            action="mailbox.created",
            actor=by,
            via=via,
            data=_audit_data({**values, **secrets}),
        )
        publish(
            MailboxCreated(
                via=via,
                audience=_audience(by, mailbox.default_team_id),
                mailbox_id=mailbox.pk,
                email=mailbox.email,
            )
        )
    return Mailbox.objects.select_related("default_team").get(pk=mailbox.pk)


def update_mailbox(
    mailbox: Mailbox,
    *,
    by: User | None,
    name: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
    default_team: Team | None = None,
    clear_default_team: bool = False,
    signature: str | None = None,
    auto_acknowledge: bool | None = None,
    verify_certificates: bool | None = None,
    imap_host: str | None = None,
    imap_port: int | None = None,
    imap_security: str | None = None,
    imap_username: str | None = None,
    imap_auth: str | None = None,
    imap_password: str | None = None,
    clear_imap_password: bool = False,
    imap_oauth2_token: str | None = None,
    clear_imap_oauth2_token: bool = False,
    imap_folder: str | None = None,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    smtp_security: str | None = None,
    smtp_username: str | None = None,
    smtp_password: str | None = None,
    clear_smtp_password: bool = False,
    via: str = Via.SYSTEM,
) -> Mailbox:
    """Change settings; None keeps a value, and an empty password keeps the stored one."""
    require_admin(by, _("Only admins may change mailboxes."))
    values = _clean(
        {
            "name": name,
            "email": email,
            "display_name": display_name,
            "default_team": default_team,
            "signature": signature,
            "auto_acknowledge": auto_acknowledge,
            "verify_certificates": verify_certificates,
            "imap_host": imap_host,
            "imap_port": imap_port,
            "imap_security": imap_security,
            "imap_username": imap_username,
            "imap_auth": imap_auth,
            "imap_folder": imap_folder,
            "smtp_host": smtp_host,
            "smtp_port": smtp_port,
            "smtp_security": smtp_security,
            "smtp_username": smtp_username,
        }
    )
    secrets = _secrets(
        {
            "imap_password": imap_password,
            "imap_oauth2_token": imap_oauth2_token,
            "smtp_password": smtp_password,
        },
        {
            "imap_password": clear_imap_password,
            "imap_oauth2_token": clear_imap_oauth2_token,
            "smtp_password": clear_smtp_password,
        },
    )

    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        old_team_id = locked.default_team_id
        changed: dict[str, Any] = {}
        for field_name, value in values.items():
            if getattr(locked, field_name) != value:
                setattr(locked, field_name, value)
                changed[field_name] = value
        if clear_default_team and default_team is None and locked.default_team_id is not None:
            locked.default_team = None
            changed["default_team"] = None
        for column, value in secrets.items():
            # A new password always counts as a change: the ciphertext differs every time.
            if value or getattr(locked, column):
                setattr(locked, column, value)
                changed[column] = value
        if not changed:
            return Mailbox.objects.select_related("default_team").get(pk=mailbox.pk)
        _check_whole(locked)
        if (
            "email" in changed
            and Mailbox.objects.filter(email__iexact=locked.email).exclude(pk=locked.pk).exists()
        ):
            raise _address_taken()
        locked.updated_at = timezone.now()
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise _address_taken() from None
        record_event(locked, action="mailbox.updated", actor=by, via=via, data=_audit_data(changed))
        publish(
            MailboxUpdated(
                via=via,
                audience=_audience(by, old_team_id, locked.default_team_id),
                mailbox_id=locked.pk,
                fields=_public_names(changed),
            )
        )
    return Mailbox.objects.select_related("default_team").get(pk=mailbox.pk)


def set_mailbox_active(
    mailbox: Mailbox, *, by: User | None, active: bool, via: str = Via.SYSTEM
) -> Mailbox:
    """Deactivate (stop reading and sending; history stays) or reactivate a mailbox."""
    require_admin(by, _("Only admins may deactivate mailboxes."))
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if locked.active == active:
            return locked
        locked.active = active
        locked.updated_at = timezone.now()
        locked.save(update_fields=["active", "updated_at"])
        record_event(
            locked,
            action="mailbox.reactivated" if active else "mailbox.deactivated",
            actor=by,
            via=via,
            data={"email": locked.email},
        )
        publish(
            MailboxActiveChanged(
                via=via,
                audience=_audience(by, locked.default_team_id),
                mailbox_id=locked.pk,
                active=active,
            )
        )
    return Mailbox.objects.select_related("default_team").get(pk=mailbox.pk)


def check_mailbox_connection(
    mailbox: Mailbox,
    *,
    by: User | None,
    via: str = Via.SYSTEM,
    timeout: float = connection.DEFAULT_TIMEOUT,
) -> MailboxCheck:
    """Test both servers and remember when, and what failed, on the mailbox.

    The network talk happens before the transaction opens: no row stays locked
    while a server takes its time to answer.
    """
    require_admin(by, _("Only admins may test mailboxes."))
    result = MailboxCheck(
        imap=connection.check_imap(mailbox, timeout=timeout),
        smtp=connection.check_smtp(mailbox, timeout=timeout),
    )
    error = result.summary()
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        locked.last_checked_at = timezone.now()
        locked.last_error = error
        locked.save(update_fields=["last_checked_at", "last_error"])
        record_event(
            locked,
            action="mailbox.checked",
            actor=by,
            via=via,
            data={"ok": result.ok, "error": error},
        )
        publish(
            MailboxChecked(
                via=via,
                audience=_audience(by),
                mailbox_id=locked.pk,
                ok=result.ok,
                error=error,
            )
        )
    return result


def record_mailbox_poll(mailbox: Mailbox, *, imap_error: str) -> Mailbox:
    """Remember when the poller last read a mailbox, and what failed ("" for nothing).

    A poll only learns about IMAP, so it replaces the IMAP part of `last_error` and keeps
    an SMTP failure found by the last connection test. The audit row and the event are
    written only when the error changes: a mailbox polled every minute would otherwise
    bury its history under identical rows.
    """
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        error = _with_imap_error(locked.last_error, imap_error)
        changed = error != locked.last_error
        locked.last_checked_at = timezone.now()
        locked.last_error = error
        locked.save(update_fields=["last_checked_at", "last_error"])
        if changed:
            record_event(
                locked,
                action="mailbox.polled",
                actor=None,
                via=Via.EMAIL,
                data={"ok": not imap_error, "error": error},
            )
            publish(
                MailboxChecked(
                    via=Via.EMAIL,
                    audience=_audience(None, locked.default_team_id),
                    mailbox_id=locked.pk,
                    ok=not error,
                    error=error,
                )
            )
    return locked


def _with_imap_error(stored: str, imap_error: str) -> str:
    """`stored` (as `MailboxCheck.summary` writes it) with its IMAP part replaced."""
    smtp_at = 0 if stored.startswith("SMTP ") else stored.find("; SMTP ")
    smtp_part = stored[smtp_at:].removeprefix("; ") if smtp_at >= 0 else ""
    return "; ".join(part for part in (imap_error, smtp_part) if part)


# --- quarantined mail -----------------------------------------------------------------------

# Quarantine.resolution of a mail an admin decided is not wanted (a retry's is "imported").
RESOLVED_DISCARDED = "discarded"


def _lock_open_quarantine(quarantine: Quarantine) -> Quarantine:
    """The row, locked and still open; its raw bytes are left unread until needed."""
    locked = Quarantine.objects.select_for_update().defer("raw").get(pk=quarantine.pk)
    if locked.resolved_at is not None:
        raise Conflict(_("This mail was already dealt with."))
    return locked


def retry_quarantined_mail(
    quarantine: Quarantine, *, by: User | None, via: str = Via.SYSTEM
) -> intake.IngestResult:
    """Run a quarantined mail through the intake again, as an admin.

    Taken in, the row is resolved as "imported" by `by`; refused again, it stays
    open with the new reason and one more retry, which the result carries. The
    lock keeps two admins from retrying the same mail at once.
    """
    require_admin(by, _("Only admins may retry quarantined mail."))
    with transaction.atomic():
        locked = _lock_open_quarantine(quarantine)
        result = intake.retry_quarantined(locked, by=by)
        record_event(
            locked,
            action="mail.quarantine_retried",
            actor=by,
            via=via,
            data={
                "outcome": result.outcome,
                "detail": result.detail,
                "conversation_number": result.conversation_number,
            },
        )
    return result


def discard_quarantined_mail(
    quarantine: Quarantine, *, by: User | None, via: str = Via.SYSTEM
) -> Quarantine:
    """Mark a quarantined mail as not wanted; its raw bytes stay, as every mail's do."""
    require_admin(by, _("Only admins may discard quarantined mail."))
    with transaction.atomic():
        locked = _lock_open_quarantine(quarantine)
        locked.resolved_at = timezone.now()
        locked.resolution = RESOLVED_DISCARDED
        locked.resolved_by = by
        locked.save(update_fields=["resolved_at", "resolution", "resolved_by"])
        record_event(
            locked,
            action="mail.quarantine_discarded",
            actor=by,
            via=via,
            data={"reason": locked.reason, "sender": locked.sender},
        )
    return locked


# --- IMAP IDLE leases -----------------------------------------------------------------------
# Which worker keeps a mailbox's IDLE connection (mail/idle.py) is the workers' own
# bookkeeping, not a change anyone made to the mailbox: these writes leave `updated_at`
# alone (it says when an admin last changed the settings) and record no audit row and no
# event, since a lease renewed every few seconds would bury the mailbox's history.


def claim_idle_lease(mailbox_id: int, *, owner: str, lease: timedelta) -> bool:
    """Take the mailbox's IDLE lease for `owner` if it is free, ran out, or is its own.

    One conditional UPDATE: of the workers racing for a mailbox, exactly one wins.
    An inactive mailbox, or one without IMAP, is never leased.
    """
    now = timezone.now()
    free = Q(idle_lease_until__isnull=True) | Q(idle_lease_until__lte=now) | Q(idle_owner=owner)
    claimed = (
        Mailbox.objects.filter(free, pk=mailbox_id, active=True)
        .exclude(imap_host="")
        .update(idle_owner=owner, idle_lease_until=now + lease)
    )
    return claimed == 1


def renew_idle_leases(mailbox_ids: Collection[int], *, owner: str, lease: timedelta) -> set[int]:
    """Extend `owner`'s leases on these mailboxes; returns the ones it still holds.

    A lease that ran out and was taken by another worker is not taken back: that
    mailbox is missing from the answer, and its watcher here should stop.
    """
    if not mailbox_ids:
        return set()
    held = Mailbox.objects.filter(pk__in=list(mailbox_ids), idle_owner=owner)
    held.update(idle_lease_until=timezone.now() + lease)
    return set(held.values_list("pk", flat=True))


def release_idle_leases(mailbox_ids: Collection[int], *, owner: str) -> None:
    """Give up `owner`'s leases at once, so another worker (or the poller) takes over."""
    if mailbox_ids:
        Mailbox.objects.filter(pk__in=list(mailbox_ids), idle_owner=owner).update(
            idle_owner="", idle_lease_until=None
        )
