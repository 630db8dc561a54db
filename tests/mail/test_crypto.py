"""Mailbox credentials at rest: a round trip, tampering, and a changed secret key."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.mail.crypto import VERSION, CredentialError, decrypt, encrypt


def test_round_trip_keeps_the_text_and_stores_no_plaintext() -> None:
    stored = encrypt("pässwörd with spaces")

    assert stored.startswith(f"{VERSION}:")
    assert "pässwörd" not in stored
    assert decrypt(stored) == "pässwörd with spaces"


def test_the_same_secret_encrypts_differently_each_time() -> None:
    assert encrypt("secret") != encrypt("secret")


def test_empty_means_no_credential() -> None:
    assert encrypt("") == ""
    assert decrypt("") == ""


def test_a_tampered_token_is_refused() -> None:
    stored = encrypt("secret")
    head, token = stored.split(":", 1)
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]

    with pytest.raises(CredentialError):
        decrypt(f"{head}:{flipped}")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(CredentialError, match="unknown format"):
        decrypt("plain-text-password")


def test_a_changed_secret_key_gives_a_clear_error(settings: Any) -> None:
    stored = encrypt("secret")
    settings.SECRET_KEY = "another secret key entirely"

    with pytest.raises(CredentialError, match="secret key may have changed"):
        decrypt(stored)


def test_the_previous_key_in_secret_key_fallbacks_still_decrypts(settings: Any) -> None:
    old = settings.SECRET_KEY
    stored = encrypt("secret")
    settings.SECRET_KEY = "the new secret key"
    settings.SECRET_KEY_FALLBACKS = [old]

    assert decrypt(stored) == "secret"
    # What is saved now uses the new key only.
    rotated = encrypt("secret")
    settings.SECRET_KEY_FALLBACKS = []
    assert decrypt(rotated) == "secret"
