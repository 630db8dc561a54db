"""Reads of mailboxes.

Staff see every mailbox (they choose one to reply from); only admins change them,
which the services check. Customers see none.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import is_staff_member
from frontdesk.core.errors import NotFound
from frontdesk.mail.models import Mailbox


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
