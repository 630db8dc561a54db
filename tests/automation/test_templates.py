"""The placeholder sandbox: whitelisted names render, every escape attempt is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from frontdesk.automation import services as automation
from frontdesk.automation.selectors import canned_text_for, placeholder_source
from frontdesk.automation.templating import (
    MAX_TEMPLATE,
    PLACEHOLDERS,
    check_template,
    format_due,
    placeholder_values,
    render,
)
from frontdesk.conversations.models import Conversation
from frontdesk.core.errors import InvalidInput
from frontdesk.customers.models import Customer
from tests.automation.conftest import Open
from tests.conftest import Personas


@pytest.mark.parametrize(
    "text",
    [
        "{{ customer.__class__ }}",
        "{{ customer.__class__.__mro__ }}",
        "{{ settings.SECRET_KEY }}",
        "{{ conversation.customer.user.password }}",
        "{{ customer.first_name|upper }}",
        "{{ customer.first_name() }}",
        "{{customer}}",
        "{% load static %}",
        "{% for x in y %}{{ x }}{% endfor %}",
        "{# a comment #}",
        "{{ {{ customer.name }} }}",
        "{{{ customer.name }}}",
        "Hello {{ customer.name",
        "Hello customer.name }}",
        "{{ " + "a" * 60 + " }}",
        "${customer.name} {{ request.user }}",
        "x" * (MAX_TEMPLATE + 1),
    ],
)
def test_escape_attempts_are_refused_when_saved(text: str) -> None:
    with pytest.raises(InvalidInput):
        check_template(text)


def test_a_macro_or_canned_reply_with_an_escape_attempt_is_not_saved(people: Personas) -> None:
    with pytest.raises(InvalidInput) as refused:
        automation.create_macro(by=people.admin, name="Bad", text="{{ settings.SECRET_KEY }}")
    assert refused.value.field == "text"
    with pytest.raises(InvalidInput) as refused:
        automation.create_canned_reply(by=people.admin, name="Bad", texts={"en": "{% debug %}"})
    assert refused.value.field == "texts.en"


def test_every_whitelisted_placeholder_renders_as_plain_text() -> None:
    text = " ".join("{{ %s }}" % name for name in PLACEHOLDERS)  # noqa: UP031 - braces galore
    assert check_template(text) == text
    values = {name: name.upper() for name in PLACEHOLDERS}
    assert render(text, values) == " ".join(name.upper() for name in PLACEHOLDERS)
    assert render("{{customer.first_name}}!", {"customer.first_name": "Jana"}) == "Jana!"


def test_values_are_inserted_once_never_rendered_themselves(
    people: Personas, open_conversation: Open
) -> None:
    sneaky = Customer.objects.create(name="{{ agent.name }} {% debug %}")
    conversation = Conversation.objects.select_related("customer", "company").get(
        pk=open_conversation(customer=sneaky).pk
    )
    values = placeholder_values(placeholder_source(conversation, people.agent))
    out = render("Dear {{ customer.name }}, {{ agent.first_name }} here.", values)
    assert out == "Dear {{ agent.name }} {% debug %}, Anna here."


def test_unknown_names_render_visibly_rather_than_vanish() -> None:
    assert render("Hi {{ customer.nickname }}", {}) == "Hi {{ customer.nickname }}"


def test_the_due_time_is_shown_in_the_customers_zone_and_language() -> None:
    due = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)
    assert format_due(due, "Europe/Prague", "cs") == "5. 3. 2025 15:30:00"
    assert format_due(due, "Asia/Bangkok", "en") == "Mar 5, 2025, 9:30:00\u202fPM"
    assert format_due(due, "Not/AZone", "en") == "Mar 5, 2025, 2:30:00\u202fPM"
    assert format_due(None, "Europe/Prague", "cs") == ""


def test_canned_replies_follow_the_customers_language_with_a_fallback(
    people: Personas, open_conversation: Open
) -> None:
    canned = automation.create_canned_reply(
        by=people.admin,
        name="Thanks",
        texts={
            "en": "Thanks, {{ customer.first_name }}!",
            "cs": "Děkujeme, {{ customer.first_name }}!",
        },
    )
    people.customer.language = "cs-CZ"
    people.customer.save()
    czech = Conversation.objects.select_related("customer").get(pk=open_conversation().pk)
    assert canned_text_for(canned, czech) == ("cs", "Děkujeme, {{ customer.first_name }}!")
    thai = Customer.objects.create(name="Somchai", language="th")
    no_thai = Conversation.objects.select_related("customer").get(
        pk=open_conversation(customer=thai).pk
    )
    assert canned_text_for(canned, no_thai)[0] == "en"  # the default language
    silent = Customer.objects.create(name="Nobody")
    detected = Conversation.objects.select_related("customer").get(
        pk=open_conversation(customer=silent, language="cs").pk
    )
    assert canned_text_for(canned, detected)[0] == "cs"  # the conversation's language
    only_polish = automation.create_canned_reply(
        by=people.admin, name="PL", texts={"pl": "Dziękujemy!"}
    )
    assert canned_text_for(only_polish, no_thai) == ("pl", "Dziękujemy!")
