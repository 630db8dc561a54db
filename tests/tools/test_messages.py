"""The catalogue check holds translations to their placeholders, plural forms included."""

from __future__ import annotations

import pytest
from tools.messages import placeholders_fit

SINGULAR = "You handed on a conversation that is not solved yet."
PLURAL = "You handed on %(counter)s conversations that are not solved yet."


def test_a_translation_must_keep_exactly_its_placeholders() -> None:
    assert placeholders_fit("Witaj %(name)s", ["Hello %(name)s"])
    assert not placeholders_fit("Witaj", ["Hello %(name)s"])
    assert not placeholders_fit("Witaj %(name)s %(extra)s", ["Hello %(name)s"])


@pytest.mark.parametrize(
    "form",
    [
        "Przekazano konwersację, która nie jest rozwiązana.",  # several forms: no count
        "คุณส่งต่อการสนทนา %(counter)s รายการที่ยังไม่ได้แก้ไข",  # one form for every number
    ],
)
def test_a_plural_form_may_use_the_count_or_leave_it_out(form: str) -> None:
    assert placeholders_fit(form, [SINGULAR, PLURAL])


def test_a_plural_form_may_not_invent_or_drop_shared_placeholders() -> None:
    ids = ["%(name)s has one", "%(name)s has %(counter)s"]

    assert not placeholders_fit("ma %(counter)s", ids)  # %(name)s dropped
    assert not placeholders_fit("%(name)s %(other)s", ids)  # %(other)s invented
