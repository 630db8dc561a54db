"""The canonical forms of emails, phone numbers and email domains.

Identity look-ups are exact matches on these forms, so every writer and every
reader normalises through here. Pure functions: services and selectors share them.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from frontdesk.core.errors import InvalidInput

MAX_EMAIL_LENGTH = 254
MIN_PHONE_DIGITS = 6
# E.164 allows at most 15 digits after the country code's plus.
MAX_PHONE_DIGITS = 15

_PHONE_PUNCTUATION = re.compile(r"[\s\-./()\u00a0\u2010-\u2015]")
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)

# Everyone can have an address here, so a sender's domain says nothing about their company.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "seznam.cz",
        "email.cz",
        "centrum.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
    }
)


def normalize_email(value: str, *, field: str = "email") -> str:
    """`value` trimmed and lower-cased; InvalidInput naming `field` if it is no address."""
    email = value.strip().lower() if isinstance(value, str) else ""
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("%(value)s is not an email address.") % {"value": value}, field=field
        ) from None
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidInput(
            _("An email address has at most %(count)d characters.") % {"count": MAX_EMAIL_LENGTH},
            field=field,
        )
    return email


def normalize_phone(value: str, *, field: str = "phone") -> str:
    """Digits only, with a leading + for international numbers (`00` counts as +).

    Spaces, dashes, dots, slashes and brackets are dropped; digits from any
    script (Thai ๐๘๑…) become ASCII. Letters, extensions and numbers with fewer
    than six digits are refused.
    """
    compact = _PHONE_PUNCTUATION.sub("", value) if isinstance(value, str) else ""
    international = compact.startswith("+")
    if international:
        compact = compact[1:]
    digits: list[str] = []
    for char in compact:
        digit = unicodedata.decimal(char, None)
        if digit is None:
            raise InvalidInput(
                _("%(value)s is not a phone number.") % {"value": value}, field=field
            )
        digits.append(str(digit))
    number = "".join(digits)
    if not international and number.startswith("00"):
        international, number = True, number[2:]
    if len(number) < MIN_PHONE_DIGITS:
        raise InvalidInput(
            _("A phone number has at least %(count)d digits.") % {"count": MIN_PHONE_DIGITS},
            field=field,
        )
    if len(number) > MAX_PHONE_DIGITS:
        raise InvalidInput(
            _("A phone number has at most %(count)d digits.") % {"count": MAX_PHONE_DIGITS},
            field=field,
        )
    return f"+{number}" if international else number


def normalize_domain(value: str, *, field: str = "domains") -> str:
    """A lower-case ASCII (punycode) host name, without a leading @ or trailing dot."""
    text = value.strip().lower().removeprefix("@").rstrip(".") if isinstance(value, str) else ""
    invalid = InvalidInput(
        _("%(value)s is not an email domain such as example.com.") % {"value": value},
        field=field,
    )
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    if not _DOMAIN_RE.fullmatch(text):
        raise invalid
    if text in PUBLIC_MAIL_DOMAINS:
        raise InvalidInput(
            _("%(value)s is a public mail provider; its senders are not one company.")
            % {"value": text},
            field=field,
        )
    return text


def email_domain_candidates(email: str) -> list[str]:
    """The domain of a normalised `email` and its parents, most specific first.

    `support@eu.mail.acme.com` gives eu.mail.acme.com, mail.acme.com, acme.com.
    """
    host = email.rpartition("@")[2]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return []
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]
