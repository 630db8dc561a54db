"""Keyword and condition matching, without a database."""

from __future__ import annotations

import unicodedata

from frontdesk.routing.matching import Conditions, Facts, language_of, matches, normalize_text


def facts(text: str = "", **overrides: object) -> Facts:
    values: dict[str, object] = {
        "channel": "email",
        "mailbox_id": None,
        "language": "",
        "tags": frozenset(),
        "customer_id": 1,
        "company_id": None,
        "custom_fields": {},
        "text": normalize_text(text),
    }
    values.update(overrides)
    return Facts(**values)  # type: ignore[arg-type]


def keywords(*words: str) -> Conditions:
    return Conditions(keywords=words)


def test_keywords_match_whole_words_ignoring_case() -> None:
    rule = keywords("refund")
    assert matches(rule, facts("I want a REFUND please"))
    assert matches(rule, facts("Refund!"))
    assert not matches(rule, facts("It was refunded already"))
    assert not matches(rule, facts("prerefund"))


def test_a_star_matches_any_ending() -> None:
    rule = keywords("refund*")
    assert matches(rule, facts("It was refunded already"))
    assert not matches(rule, facts("prerefund"))


def test_polish_keywords_with_diacritics_and_inflection() -> None:
    assert matches(keywords("zwrot"), facts("Proszę o ZWROT pieniędzy"))
    assert not matches(keywords("zwrot"), facts("Czekam na zwrotu"))
    assert matches(keywords("zwrot*"), facts("Czekam na zwrotu pieniędzy"))
    # Diacritics are letters of the word, not boundaries, and not optional.
    assert matches(keywords("reklamację"), facts("Składam reklamację."))
    assert not matches(keywords("reklamacje"), facts("Składam reklamację."))
    decomposed = unicodedata.normalize("NFD", "Składam REKLAMACJĘ")
    assert matches(keywords("reklamację"), facts(decomposed))


def test_several_words_match_in_sequence_whatever_the_spacing() -> None:
    rule = keywords("credit card")
    assert matches(rule, facts("my Credit\n  Card was charged twice"))
    assert not matches(rule, facts("card credit"))


def test_thai_keywords_match_inside_unspaced_text() -> None:
    # "คืนเงิน" (refund) inside a sentence written without spaces.
    text = "สวัสดีครับผมต้องการคืนเงินสำหรับคำสั่งซื้อนี้"
    assert matches(keywords("คืนเงิน"), facts(text))
    assert not matches(keywords("ยกเลิก"), facts(text))  # "cancel" is not there


def test_mixed_scripts_in_one_keyword_list() -> None:
    rule = keywords("refund", "คืนเงิน", "zwrot*")
    assert matches(rule, facts("ต้องการคืนเงินค่ะ"))
    assert matches(rule, facts("prośba o zwrotu"))
    assert not matches(rule, facts("Where is my parcel?"))


def test_language_is_declared_else_thai_script() -> None:
    assert language_of(("th-TH", "en"), "") == "th"
    assert language_of(("", "pl"), "text") == "pl"
    assert language_of(("", ""), "ช่วยด้วยครับ") == "th"
    assert language_of(("", ""), "Hello") == ""


def test_conditions_all_hold_and_empty_ones_hold_for_anything() -> None:
    assert matches(Conditions(), facts("anything"))
    both = Conditions(channels=frozenset({"email"}), languages=frozenset({"th"}))
    assert matches(both, facts(language="th"))
    assert not matches(both, facts(language="th", channel="chat"))
    assert not matches(both, facts(language="pl"))


def test_custom_fields_compare_as_typed_or_as_text() -> None:
    rule = Conditions(custom_fields=(("plan", "Gold"), ("seats", 5), ("vip", True)))
    assert matches(rule, facts(custom_fields={"plan": "gold", "seats": 5, "vip": True}))
    assert not matches(rule, facts(custom_fields={"plan": "Gold", "seats": 5, "vip": False}))
    assert not matches(rule, facts(custom_fields={"plan": "Gold", "vip": True}))
