"""Portal sign-in, sign-up and preferences: the only writers of portal tokens.

Mailed links carry a random secret; only its SHA-256 is stored. Every link is
single-use and short-lived, and mail leaves after the transaction commits.
Answers never tell whether an address has an account: the caller shows the
same message whatever these functions found.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Role, User
from frontdesk.accounts.services import create_user, set_password_hash, set_user_active
from frontdesk.core.audit import record_event
from frontdesk.core.errors import Conflict, InvalidInput, NotFound
from frontdesk.core.models import Via
from frontdesk.customers.models import Customer
from frontdesk.customers.services import (
    get_or_create_customer_by_email,
    link_portal_user,
    set_customer_language,
)
from frontdesk.portal.models import PortalToken, TokenPurpose
from frontdesk.portal.selectors import profile_language

SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)
VERIFY_LINK_LIFETIME = timedelta(days=2)
# More links than this per address within one link lifetime are not sent: a
# stranger can make the portal mail someone, but not flood their inbox.
MAX_LINKS_PER_WINDOW = 5
MAX_NAME = 150
MAX_EMAIL = 150


class LinkError(Conflict):
    """A mailed link that cannot be used; `reason` is "invalid", "expired" or "used"."""

    def __init__(self, reason: str) -> None:
        super().__init__(_("This link cannot be used."), field="token")
        self.reason = reason


def _too_many(user: User, *, purpose: str, at: datetime, window: timedelta) -> bool:
    recent = PortalToken.objects.filter(user=user, purpose=purpose, created_at__gt=at - window)
    return recent.count() >= MAX_LINKS_PER_WINDOW


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_token(
    user: User, *, purpose: str, at: datetime, lifetime: timedelta, password_hash: str = ""
) -> str:
    raw = secrets.token_urlsafe(32)
    PortalToken.objects.create(
        purpose=purpose,
        user=user,
        digest=_digest(raw),
        password_hash=password_hash,
        created_at=at,
        expires_at=at + lifetime,
    )
    return raw


def _clean_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Enter a valid email address."), field="email") from None
    if len(email) > MAX_EMAIL:
        raise InvalidInput(
            _("At most %(count)d characters, please.") % {"count": MAX_EMAIL}, field="email"
        )
    return email


def _mail_after_commit(*, to: str, template: str, language: str, context: dict[str, str]) -> None:
    """Render in the recipient's language now, send once the transaction has committed."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"portal/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"portal/email/{template}.txt", context)

    def send() -> None:
        send_mail(subject, body, None, [to])

    transaction.on_commit(send)


def _greeting(user: User) -> str:
    customer = Customer.objects.filter(user_id=user.pk).only("name").first()
    return (customer.name if customer is not None else "") or user.display_name


def _link(base_url: str, name: str, raw: str) -> str:
    return base_url.rstrip("/") + reverse(name, kwargs={"token": raw})


# --- sign-in links --------------------------------------------------------------------------


def request_sign_in_link(email: str, *, base_url: str, at: datetime | None = None) -> None:
    """Mail a sign-in link to an active customer login with this address.

    Nothing is sent for unknown addresses, staff or accounts not yet verified;
    the caller says "if the address has an account, a link is on its way" either way.
    """
    at = at or timezone.now()
    try:
        normalized = _clean_email(email)
    except InvalidInput:
        return
    user = User.objects.filter(email__iexact=normalized, role=Role.CUSTOMER).first()
    if user is None or not user.is_active:
        return
    with transaction.atomic():
        if _too_many(user, purpose=TokenPurpose.SIGN_IN, at=at, window=SIGN_IN_LINK_LIFETIME):
            return
        raw = _new_token(user, purpose=TokenPurpose.SIGN_IN, at=at, lifetime=SIGN_IN_LINK_LIFETIME)
        record_event(user, action="portal.sign_in_link_sent", actor=None, via=Via.PORTAL, at=at)
        _mail_after_commit(
            to=user.email,
            template="sign_in_link",
            language=profile_language(user) or translation.get_language() or "",
            context={
                "link": _link(base_url, "portal:magic_link", raw),
                "minutes": str(int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)),
                "name": _greeting(user),
            },
        )


def _usable_token(raw: str, *, purpose: str, at: datetime) -> PortalToken:
    """The token row, locked; LinkError if it is unknown, used or expired."""
    if not raw or len(raw) > 128:
        raise LinkError("invalid")
    token = (
        PortalToken.objects.select_for_update()
        .select_related("user")
        .filter(digest=_digest(raw), purpose=purpose)
        .first()
    )
    if token is None:
        raise LinkError("invalid")
    if token.used_at is not None:
        raise LinkError("used")
    if token.expires_at <= at:
        raise LinkError("expired")
    return token


def check_link(raw: str, *, purpose: str, at: datetime | None = None) -> User:
    """Whom a link is for, without using it (the page that asks to confirm)."""
    at = at or timezone.now()
    with transaction.atomic():
        token = _usable_token(raw, purpose=purpose, at=at)
    return token.user


def use_sign_in_link(raw: str, *, at: datetime | None = None) -> User:
    """Burn the link and return the customer it signs in; LinkError otherwise."""
    at = at or timezone.now()
    with transaction.atomic():
        token = _usable_token(raw, purpose=TokenPurpose.SIGN_IN, at=at)
        user = token.user
        if not (user.is_active and user.is_customer):
            raise LinkError("invalid")
        token.used_at = at
        token.save(update_fields=["used_at"])
        record_event(user, action="portal.signed_in_by_link", actor=user, via=Via.PORTAL, at=at)
    return user


# --- sign-up and verification ---------------------------------------------------------------


@dataclass(frozen=True)
class SignUp:
    name: str
    email: str
    password: str


def _clean_sign_up(data: SignUp) -> tuple[str, str]:
    name = " ".join(data.name.split())
    if not name:
        raise InvalidInput(_("Enter your name."), field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            _("At most %(count)d characters, please.") % {"count": MAX_NAME}, field="name"
        )
    email = _clean_email(data.email)
    try:
        validate_password(data.password, User(email=email, username=email, first_name=name))
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None
    return name, email


def sign_up(data: SignUp, *, base_url: str, at: datetime | None = None) -> None:
    """Start a portal account: an inactive customer login and a verification mail.

    The password waits on the verification token, so it only ever belongs to
    whoever can read the mailbox. An address that already has an active login
    gets a note saying so instead (the page shows the same message either way).
    """
    at = at or timezone.now()
    name, email = _clean_sign_up(data)
    # Hashed whatever the branch, so the answer's timing does not tell either.
    password_hash = make_password(data.password)
    language = translation.get_language() or ""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is not None and user.is_active:
            _mail_after_commit(
                to=user.email,
                template="account_exists",
                language=profile_language(user) or language,
                context={
                    "login": base_url.rstrip("/") + reverse("portal:login"),
                    "name": _greeting(user),
                },
            )
            return
        if user is not None and not user.is_customer:
            return  # a deactivated staff login: not the portal's to revive
        if user is None:
            # Signs in only once the address is proven.
            user = create_user(
                by=None, email=email, password=None, role=Role.CUSTOMER,
                first_name=name, active=False, via=Via.PORTAL,
            )  # fmt: skip
        elif _too_many(
            user, purpose=TokenPurpose.VERIFY_EMAIL, at=at, window=SIGN_IN_LINK_LIFETIME
        ):
            return
        raw = _new_token(
            user,
            purpose=TokenPurpose.VERIFY_EMAIL,
            at=at,
            lifetime=VERIFY_LINK_LIFETIME,
            password_hash=password_hash,
        )
        record_event(user, action="portal.signed_up", actor=None, via=Via.PORTAL, at=at,
                     data={"name": name})  # fmt: skip
        _mail_after_commit(
            to=email,
            template="verify_email",
            language=language,
            context={"link": _link(base_url, "portal:verify", raw), "name": name},
        )


def verify_email(raw: str, *, at: datetime | None = None) -> User:
    """Use a verification link: activate the login, link it to its customer, return it."""
    at = at or timezone.now()
    with transaction.atomic():
        token = _usable_token(raw, purpose=TokenPurpose.VERIFY_EMAIL, at=at)
        user = User.objects.select_for_update().get(pk=token.user_id)
        if not user.is_customer or user.is_active:
            raise LinkError("used")
        customer, _created = get_or_create_customer_by_email(
            user.email, name=user.get_full_name(), via=Via.PORTAL
        )
        if customer.user_id is None:
            link_portal_user(customer, user=user, by=None, via=Via.PORTAL)
        elif customer.user_id != user.pk:
            raise LinkError("invalid")
        # The password chosen at this sign-up.
        set_password_hash(user, by=None, password_hash=token.password_hash, via=Via.PORTAL)
        set_user_active(user, by=None, active=True, via=Via.PORTAL)
        # Every other pending verification of this login dies with this one.
        PortalToken.objects.filter(
            user=user, purpose=TokenPurpose.VERIFY_EMAIL, used_at__isnull=True
        ).update(used_at=at)
        record_event(user, action="portal.email_verified", actor=user, via=Via.PORTAL, at=at,
                     data={"customer_id": customer.pk})  # fmt: skip
    return User.objects.get(pk=user.pk)


# --- preferences ----------------------------------------------------------------------------


def set_portal_language(user: User, *, language: str) -> None:
    """Remember the switcher's choice on the customer's profile ("" = follow the browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Choose one of the offered languages."), field="language")
    customer = Customer.objects.filter(user_id=user.pk).first()
    if customer is None or not user.is_customer:
        raise NotFound(_("No such customer."))
    set_customer_language(customer, by=user, language=language, via=Via.PORTAL)
