"""The canonical forms that identity look-ups match on."""

from __future__ import annotations

import pytest

from frontdesk.core.errors import InvalidInput
from frontdesk.customers.normalize import email_domain_candidates
from frontdesk.customers.services import normalize_domain, normalize_email, normalize_phone


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Jana.Novakova@ACME.Example ") == "jana.novakova@acme.example"


@pytest.mark.parametrize("value", ["", "jana", "jana@", "@acme.example", "a b@acme.example"])
def test_malformed_email_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_email(value, field="emails")

    assert refused.value.field == "emails"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+420 777 123 456", "+420777123456"),
        ("00420 (777) 123-456", "+420777123456"),
        ("777.123.456", "777123456"),
        ("+66 ๐๘๑ ๒๓๔ ๕๖๗", "+66081234567"),
    ],
)
def test_phone_keeps_plus_and_digits(value: str, expected: str) -> None:
    assert normalize_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "+1 234", "call me", "777 123 456 ext 12", "1" * 16])
def test_malformed_phone_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_phone(value, field="phones")

    assert refused.value.field == "phones"


def test_domain_is_lower_cased_without_at_sign_and_in_punycode() -> None:
    assert normalize_domain(" @ACME.Example. ") == "acme.example"
    assert normalize_domain("bücher.example") == "xn--bcher-kva.example"


@pytest.mark.parametrize("value", ["", "acme", "acme..example", "-acme.example", "gmail.com"])
def test_bad_or_public_domain_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_domain(value)

    assert refused.value.field == "domains"


def test_email_domain_candidates_run_from_specific_to_general() -> None:
    assert email_domain_candidates("a@eu.mail.acme.example") == [
        "eu.mail.acme.example",
        "mail.acme.example",
        "acme.example",
    ]
