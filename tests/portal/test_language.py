"""The portal speaks the customer's profile language, else the browser's; the switcher wins."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.accounts.models import User
from frontdesk.customers.models import Customer
from frontdesk.customers.services import update_customer
from tests.conftest import Personas
from tests.portal.conftest import open_request

pytestmark = pytest.mark.django_db


def _lang(response: Any) -> str:
    body = str(response.content.decode())
    return body.split('<html lang="', 1)[1].split('"', 1)[0]


def test_profile_language_wins_over_the_browser(portal: Client, people: Personas) -> None:
    update_customer(people.customer, by=None, language="cs")
    response = portal.get(reverse("portal:home"), headers={"accept-language": "pl"})
    assert _lang(response) == "cs"
    assert response["Content-Language"] == "cs"


def test_customer_language_wins_over_the_login_language(portal: Client, people: Personas) -> None:
    User.objects.filter(pk=people.customer_user.pk).update(language="ru")
    update_customer(people.customer, by=None, language="pl")
    assert _lang(portal.get(reverse("portal:home"))) == "pl"


def test_login_language_when_the_customer_has_none(portal: Client, people: Personas) -> None:
    User.objects.filter(pk=people.customer_user.pk).update(language="ru")
    assert _lang(portal.get(reverse("portal:home"), headers={"accept-language": "pl"})) == "ru"


def test_browser_language_without_a_profile_language(portal: Client, people: Personas) -> None:
    assert _lang(portal.get(reverse("portal:home"), headers={"accept-language": "pl"})) == "pl"
    assert _lang(portal.get(reverse("portal:home"), headers={"accept-language": "th"})) == "th"


def test_unsupported_profile_language_falls_back_to_the_browser(
    portal: Client, people: Personas
) -> None:
    update_customer(people.customer, by=None, language="pt-br")
    assert _lang(portal.get(reverse("portal:home"), headers={"accept-language": "cs"})) == "cs"


def test_switcher_saves_the_choice_to_the_profile(portal: Client, people: Personas) -> None:
    update_customer(people.customer, by=None, language="cs")
    mine = open_request(people)
    page = reverse("portal:request", args=[mine.number])
    response = portal.post(reverse("portal:language"), {"language": "ru", "next": page})
    assert response.status_code == 302
    assert response["Location"] == page
    assert Customer.objects.get(pk=people.customer.pk).language == "ru"
    assert _lang(portal.get(page, headers={"accept-language": "pl"})) == "ru"


def test_switcher_refuses_a_language_not_offered(portal: Client, people: Personas) -> None:
    update_customer(people.customer, by=None, language="cs")
    portal.post(reverse("portal:language"), {"language": "xx", "next": "/portal/"})
    assert Customer.objects.get(pk=people.customer.pk).language == "cs"


def test_signed_out_switcher_posts_to_set_language_and_sets_the_cookie(client: Client) -> None:
    page = client.get(reverse("portal:login")).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    for code in ("en", "pl", "cs", "ru", "id", "th"):
        assert f'<option value="{code}"' in page
    client.post(reverse("set_language"), {"language": "id", "next": reverse("portal:login")})
    assert _lang(client.get(reverse("portal:login"), headers={"accept-language": "pl"})) == "id"


def test_signed_in_switcher_posts_to_the_portal(portal: Client) -> None:
    page = portal.get(reverse("portal:home")).content.decode()
    assert f'action="{reverse("portal:language")}"' in page


def test_times_are_shown_in_the_customers_time_zone(portal: Client, people: Personas) -> None:
    update_customer(people.customer, by=None, time_zone="Asia/Bangkok")
    mine = open_request(people)
    response = portal.get(reverse("portal:request", args=[mine.number]))
    assert "+07:00" in response.content.decode()
