"""Reads of mailboxes, quarantined mail and kept originals.

Staff see every mailbox (they choose one to reply from); only admins change them,
which the services check. Customers see none. Quarantined mail is for admins
only; the original of a message, for the staff who may see its conversation.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.conversations.selectors import access_conversation
from frontdesk.core.errors import NotFound
from frontdesk.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from frontdesk.mail.models import InboundMessage, Mailbox, Quarantine


def _visible_mailboxes(user: User) -> QuerySet[Mailbox]:
    if is_staff_member(user):
        return Mailbox.objects.select_related("default_team")
    return Mailbox.objects.none()


def list_mailboxes(user: User, *, active: bool | None = None) -> list[Mailbox]:
    """Mailboxes by name; a help desk has a handful, so no pagination."""
    queryset = _visible_mailboxes(user).order_by("name", "id")
    if active is not None:
        queryset = queryset.filter(active=active)
    return list(queryset)


def access_mailbox(user: User, mailbox_id: int) -> Mailbox:
    found = _visible_mailboxes(user).filter(pk=mailbox_id).first()
    if found is None:
        raise NotFound(_("No such mailbox."))
    return found


# --- quarantined mail -----------------------------------------------------------------------


def _visible_quarantine(user: User) -> QuerySet[Quarantine]:
    if user.is_active and user.is_admin:
        return Quarantine.objects.all()
    return Quarantine.objects.none()


def list_quarantine(
    user: User,
    *,
    include_resolved: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Quarantine]:
    """Quarantined mail newest first; open ones only unless `include_resolved`.

    The raw bytes (up to the size limit each) stay in the database: a list needs
    only the labels. Open ones are read through the partial index `quarantine_open`.
    """
    queryset = _visible_quarantine(user).defer("raw").select_related("mailbox", "resolved_by")
    if not include_resolved:
        queryset = queryset.filter(resolved_at__isnull=True)
    return keyset_page(
        queryset, key="created_at", descending=True, cursor=cursor, limit=limit,
        key_is_datetime=True,
    )  # fmt: skip


def count_open_quarantine(user: User) -> int:
    return _visible_quarantine(user).filter(resolved_at__isnull=True).count()


def access_quarantine(user: User, quarantine_id: int, *, with_raw: bool = False) -> Quarantine:
    queryset = _visible_quarantine(user).select_related("mailbox", "resolved_by")
    if not with_raw:
        queryset = queryset.defer("raw")
    found = queryset.filter(pk=quarantine_id).first()
    if found is None:
        raise NotFound(_("No such quarantined mail."))
    return found


# --- originals of messages ------------------------------------------------------------------


def access_original(user: User, message_id: int) -> InboundMessage:
    """The intake record, with the kept original, of the message `message_id`.

    Staff who may see the message's conversation (where it is now, after a merge)
    get it; anyone else, and a message that did not come by mail, get NotFound.
    Customers never do: the original carries what their own view leaves out.
    """
    missing = NotFound(_("No original mail is kept for this message."))
    if not is_staff_member(user):
        raise missing
    record = (
        InboundMessage.objects.select_related("mailbox", "message__conversation")
        .filter(message_id=message_id)
        .exclude(raw="")
        .order_by("id")
        .first()
    )
    if record is None or record.message is None:
        raise missing
    access_conversation(user, record.message.conversation.number)
    return record


def read_original(record: InboundMessage) -> bytes | None:
    """The kept bytes, or None when storage no longer has them."""
    try:
        with record.raw.open("rb") as stored:
            data: bytes = stored.read()
    except FileNotFoundError:
        return None
    return data


# --- for the engines (SLA policies, routing rules) that match on the mailbox --------------------


def mailbox_names() -> list[tuple[int, str]]:
    """Every mailbox as (id, name), for the condition fields of policy and rule forms."""
    return [
        (pk, str(name))
        for pk, name in Mailbox.objects.order_by("name", "id").values_list("id", "name")
    ]


def existing_mailbox_ids(ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(Mailbox.objects.filter(pk__in=ids).values_list("id", flat=True))


def first_mailbox_ids(conversation_ids: Iterable[int]) -> dict[int, int]:
    """The mailbox each conversation's first mail came in through; conversations that came
    by another channel are left out."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    rows = (
        InboundMessage.objects.filter(conversation_id__in=ids, mailbox_id__isnull=False)
        .order_by("received_at", "id")
        .values_list("conversation_id", "mailbox_id")
    )
    found: dict[int, int] = {}
    for conversation_id, mailbox_id in rows:
        if conversation_id is not None and mailbox_id is not None:
            found.setdefault(conversation_id, mailbox_id)
    return found
