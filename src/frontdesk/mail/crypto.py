"""Mailbox credentials at rest: encrypted with a key derived from the secret key.

A stored token reads `v1:<fernet token>`. The version prefix lets a later
scheme live beside this one. Fernet authenticates what it encrypts, so a
tampered token or one made under another secret key is refused with
`CredentialError`, never turned into a wrong password. Django's
`SECRET_KEY_FALLBACKS` are tried too, so rotating the secret key the Django
way keeps stored credentials readable until they are saved again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

VERSION = "v1"
# HKDF salt and info name the purpose, so this key is worth nothing to any other
# use of the secret key (sessions, password reset tokens), and vice versa.
_SALT = b"frontdesk.mail.crypto"
_INFO = b"frontdesk mailbox credentials v1"


class CredentialError(Exception):
    """A stored credential cannot be read: tampered, or the secret key changed."""


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_derive(secret) for secret in secrets])


def encrypt(plaintext: str) -> str:
    """The stored form of `plaintext`; "" stays "" (no credential)."""
    if not plaintext:
        return ""
    token = _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")
    return f"{VERSION}:{token}"


def decrypt(stored: str) -> str:
    """The plaintext of a stored token; raises CredentialError when it cannot be read."""
    if not stored:
        return ""
    version, sep, token = stored.partition(":")
    if not sep or version != VERSION:
        raise CredentialError(_("The stored credential has an unknown format."))
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise CredentialError(
            _(
                "The stored credential cannot be decrypted. The secret key may have changed "
                "since it was saved; enter the password again."
            )
        ) from None
