"""The customer and company pages of the workspace, their conversation panels, and merging."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.conversations.models import Conversation
from frontdesk.conversations.services import merge_customers
from frontdesk.customers.models import Customer, Identity
from frontdesk.customers.services import create_company, create_customer, update_company
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def row_ids(html: str) -> list[str]:
    return re.findall(r'data-row="(\d+)"', html)


# --- the customer list ----------------------------------------------------------------------


@pytest.fixture
def polish_caller(people: Personas) -> Customer:
    return create_customer(
        by=None, name="Marta Kowalska", emails=["marta@example.pl"], phones=["+48 600 100 200"]
    )


def test_customer_list_shows_name_primary_email_and_company_as_keyboard_rows(
    people: Personas,
) -> None:
    html = page(signed_in(people.agent), reverse("customers:list"))

    assert "data-rowlist" in html
    assert row_ids(html) == [str(people.customer.pk), str(people.other_customer.pk)]
    detail = reverse("customers:detail", args=[people.customer.pk])
    assert f'<a data-open href="{detail}">Jana Nováková</a>' in html
    assert "jana@acme.example" in html
    assert "Acme s.r.o." in html


@pytest.mark.parametrize(
    "q", ["kowal", "MARTA@Example.PL", "+48 600-100-200", "48600100200", "0048 600 100 200"]
)
def test_customer_list_finds_by_name_email_or_phone_however_written(
    people: Personas, polish_caller: Customer, q: str
) -> None:
    html = page(signed_in(people.agent), reverse("customers:list"), q=q)

    assert row_ids(html) == [str(polish_caller.pk)]


def test_customer_list_matches_emails_whole_not_in_part(
    people: Personas, polish_caller: Customer
) -> None:
    html = page(signed_in(people.agent), reverse("customers:list"), q="marta@example")

    assert row_ids(html) == []
    assert "No customer matches" in html


def test_customer_list_pages_with_a_cursor(people: Personas) -> None:
    for n in range(55):
        create_customer(by=None, name=f"Bulk {n:02d}")
    client = signed_in(people.agent)

    first = page(client, reverse("customers:list"), q="bulk")
    cursor = re.search(r'cursor=([\w-]+)"', first)
    assert cursor is not None
    second = page(client, reverse("customers:list"), q="bulk", cursor=cursor.group(1))

    assert len(row_ids(first)) == 50
    assert len(row_ids(second)) == 5
    assert set(row_ids(first)).isdisjoint(row_ids(second))
    assert 'rel="next"' not in second


def test_customer_list_starts_over_on_a_forged_cursor(people: Personas) -> None:
    html = page(signed_in(people.agent), reverse("customers:list"), cursor="forged")

    assert len(row_ids(html)) == 2
    assert "first one" in html


def test_customer_list_leaves_out_merged_duplicates(people: Personas) -> None:
    merge_customers(people.other_customer, into=people.customer, by=people.supervisor)

    html = page(signed_in(people.agent), reverse("customers:list"))

    assert row_ids(html) == [str(people.customer.pk)]


def test_customer_list_query_count_does_not_grow_with_rows(
    people: Personas, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        create_customer(by=None, name=f"C{n}", emails=[f"c{n}@example.com"], company=people.company)
    client = signed_in(people.agent)

    # session, user, customers with companies, their identities
    with django_assert_max_num_queries(4):
        client.get(reverse("customers:list"))


# --- the customer profile -------------------------------------------------------------------


def test_profile_shows_identities_links_and_the_conversations_panel(
    people: Personas, polish_caller: Customer
) -> None:
    html = page(signed_in(people.supervisor), reverse("customers:detail", args=[polish_caller.pk]))

    assert "marta@example.pl" in html
    assert "+48 600 100 200" in html
    assert f"{reverse('conversations:new')}?customer={polish_caller.pk}" in html
    assert reverse("conversations:merge_customer", args=[polish_caller.pk]) in html
    panel = reverse("conversations:customer_conversations", args=[polish_caller.pk])
    assert f'hx-get="{panel}"' in html
    assert 'hx-trigger="load' in html


def test_profile_offers_merging_only_to_supervisors_and_admins(people: Personas) -> None:
    url = reverse("customers:detail", args=[people.customer.pk])
    merge = reverse("conversations:merge_customer", args=[people.customer.pk])

    assert merge not in page(signed_in(people.agent), url)
    assert merge in page(signed_in(people.admin), url)


def test_profile_query_count(people: Personas, django_assert_max_num_queries: Any) -> None:
    client = signed_in(people.agent)

    # session, user, customer with company, identities
    with django_assert_max_num_queries(4):
        client.get(reverse("customers:detail", args=[people.customer.pk]))


def test_merged_customer_page_points_to_the_kept_one(people: Personas) -> None:
    merge_customers(people.other_customer, into=people.customer, by=people.supervisor)

    html = page(
        signed_in(people.supervisor), reverse("customers:detail", args=[people.other_customer.pk])
    )

    assert "Merged into" in html
    assert f'href="{reverse("customers:detail", args=[people.customer.pk])}"' in html
    assert "Save customer" not in html
    assert reverse("conversations:merge_customer", args=[people.other_customer.pk]) not in html


def test_edit_saves_fields_and_identities(people: Personas) -> None:
    url = reverse("customers:detail", args=[people.other_customer.pk])
    form = {
        "name": "Piotr Nowak-Kowalski",
        "emails": "piotr@example.org\npiotr.nk@example.org",
        "phones": "+48 601 000 000",
        "company": "Acme s.r.o.",
        "language": "pl",
        "time_zone": "Europe/Warsaw",
        "external_id": "crm-7",
        "notes": "Calls in the morning.",
    }

    response = signed_in(people.agent).post(url, form)

    assert response.status_code == 302
    customer = Customer.objects.get(pk=people.other_customer.pk)
    assert customer.name == "Piotr Nowak-Kowalski"
    assert customer.company == people.company
    assert (customer.language, customer.time_zone, customer.external_id) == (
        "pl",
        "Europe/Warsaw",
        "crm-7",
    )
    assert sorted(
        Identity.objects.filter(customer=customer).values_list("normalized", flat=True)
    ) == [
        "+48601000000",
        "piotr.nk@example.org",
        "piotr@example.org",
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("emails", "piotr@example.org\nnot-an-address", "not-an-address is not an email address."),
        ("emails", "jana@acme.example", "jana@acme.example belongs to another customer."),
        ("phones", "12", "A phone number has at least 6 digits."),
        ("time_zone", "Mars/Olympus", "Mars/Olympus is not a time zone"),
        ("company", "Nobody Ltd", "There is no company Nobody Ltd."),
    ],
)
def test_edit_with_bad_input_shows_the_field_error_and_changes_nothing(
    people: Personas, field: str, value: str, message: str
) -> None:
    url = reverse("customers:detail", args=[people.other_customer.pk])
    form = {"name": "Renamed", "emails": "piotr@example.org", "phones": "", "company": "",
            "language": "", "time_zone": "", "external_id": "", "notes": ""}  # fmt: skip
    form[field] = value

    response = signed_in(people.agent).post(url, form)

    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert re.search(r'class="field has-error">\s*<label for="id_' + field, html)
    customer = Customer.objects.get(pk=people.other_customer.pk)
    assert customer.name == "Piotr Nowak"
    assert list(
        Identity.objects.filter(customer=customer).values_list("normalized", flat=True)
    ) == ["piotr@example.org"]


# --- the conversations panel ----------------------------------------------------------------


def test_panel_lists_every_channel_but_hides_teams_the_agent_cannot_see(
    people: Personas,
) -> None:
    by_mail = open_conversation(people.customer, team=people.orders, subject="Mail")
    by_phone = open_conversation(people.customer, team=people.orders, channel="phone")
    by_chat = open_conversation(people.customer, team=people.orders, channel="chat")
    billing = open_conversation(people.customer, team=people.billing, subject="Invoice")
    open_conversation(people.other_customer, team=people.orders)
    url = reverse("conversations:customer_conversations", args=[people.customer.pk])

    agent_sees = page(signed_in(people.agent), url)
    admin_sees = page(signed_in(people.admin), url)

    newest_first = [billing, by_chat, by_phone, by_mail]
    assert row_ids(admin_sees) == [str(c.number) for c in newest_first]
    assert row_ids(agent_sees) == [str(c.number) for c in newest_first if c != billing]
    assert "Invoice" not in agent_sees
    for label in ("Email", "Phone", "Chat"):
        assert label in agent_sees
    detail = reverse("conversations:detail", args=[by_mail.number])
    assert f'<a data-open href="{detail}">#{by_mail.number} Mail</a>' in agent_sees
    assert 'class="badge status-new"' in agent_sees


def test_panel_leaves_out_the_excluded_conversation(people: Personas) -> None:
    shown = open_conversation(people.customer, team=people.orders)
    current = open_conversation(people.customer, team=people.orders)
    url = reverse("conversations:customer_conversations", args=[people.customer.pk])

    html = page(signed_in(people.agent), url, exclude=current.number)

    assert row_ids(html) == [str(shown.number)]


def test_panel_pages_older_conversations(people: Personas) -> None:
    opened = [open_conversation(people.customer, team=people.orders) for _ in range(22)]
    url = reverse("conversations:customer_conversations", args=[people.customer.pk])
    client = signed_in(people.agent)

    first = page(client, url)
    more = re.search(r'hx-get="([^"]+)"', first)
    assert more is not None
    rest = page(client, more.group(1).replace("&amp;", "&"))

    assert row_ids(first) + row_ids(rest) == [str(c.number) for c in reversed(opened)]
    assert "<table" not in rest


def test_panel_query_count(people: Personas, django_assert_max_num_queries: Any) -> None:
    for channel in ("email", "phone", "chat", "visit", "portal"):
        open_conversation(people.customer, team=people.orders, channel=channel, tags=["vip"])
    client = signed_in(people.agent)
    url = reverse("conversations:customer_conversations", args=[people.customer.pk])

    # session, user, customer, team ids, conversations, tags
    with django_assert_max_num_queries(6):
        client.get(url)


def test_company_panel_lists_the_company_conversations(people: Personas) -> None:
    mine = open_conversation(people.customer, team=people.orders)
    open_conversation(people.other_customer, team=people.orders)
    url = reverse("conversations:company_conversations", args=[people.company.pk])

    assert row_ids(page(signed_in(people.agent), url)) == [str(mine.number)]


# --- companies ------------------------------------------------------------------------------


def test_company_list_searches_name_and_domain(people: Personas) -> None:
    globex = create_company(by=None, name="Globex", domains=["globex.example"])
    client = signed_in(people.agent)

    assert row_ids(page(client, reverse("customers:companies"), q="glob")) == [str(globex.pk)]
    assert row_ids(page(client, reverse("customers:companies"), q="@GLOBEX.example")) == [
        str(globex.pk)
    ]
    assert len(row_ids(page(client, reverse("customers:companies")))) == 2


def test_company_page_shows_domains_members_and_panel(people: Personas) -> None:
    update_company(people.company, by=None, domains=["acme.example"], notes="Key account")

    html = page(signed_in(people.agent), reverse("customers:company", args=[people.company.pk]))

    assert "acme.example" in html
    assert "Key account" in html
    assert "Jana Nováková" in html
    assert reverse("conversations:company_conversations", args=[people.company.pk]) in html
    # Agents read companies; only supervisors and admins edit them.
    assert "Save company" not in html


def test_supervisor_edits_company_and_bad_domain_changes_nothing(people: Personas) -> None:
    url = reverse("customers:company", args=[people.company.pk])
    client = signed_in(people.supervisor)

    bad = client.post(url, {"name": "Acme", "domains": "gmail.com", "notes": ""})
    good = client.post(
        url, {"name": "Acme a.s.", "domains": "acme.example", "members_see_all": "on"}
    )

    assert bad.status_code == 422
    assert "public mail provider" in bad.content.decode()
    assert good.status_code == 302
    people.company.refresh_from_db()
    assert people.company.name == "Acme a.s."
    assert people.company.members_see_all is True


def test_agent_may_not_post_company_changes(people: Personas) -> None:
    url = reverse("customers:company", args=[people.company.pk])

    response = signed_in(people.agent).post(url, {"name": "Hijacked", "domains": ""})

    assert response.status_code == 403
    people.company.refresh_from_db()
    assert people.company.name == "Acme s.r.o."


# --- merging --------------------------------------------------------------------------------


def test_merge_page_finds_candidates_and_merges(people: Personas) -> None:
    conversation = open_conversation(people.other_customer, team=people.orders)
    url = reverse("conversations:merge_customer", args=[people.other_customer.pk])
    client = signed_in(people.supervisor)

    html = page(client, url, q="jana@acme.example")
    response = client.post(url, {"into": people.customer.pk})

    assert row_ids(html) == [str(people.customer.pk)]
    assert 'name="into"' in html
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[people.customer.pk])
    conversation.refresh_from_db()
    assert conversation.customer == people.customer


def test_merge_page_refuses_agents(people: Personas) -> None:
    url = reverse("conversations:merge_customer", args=[people.other_customer.pk])
    client = signed_in(people.agent)

    html = page(client, url, q="jana@acme.example")
    response = client.post(url, {"into": people.customer.pk})

    assert "Only supervisors and admins merge customers." in html
    assert 'name="into"' not in html
    assert response.status_code == 403
    assert Customer.objects.get(pk=people.other_customer.pk).merged_into is None


def test_merge_page_shows_a_refusal(people: Personas) -> None:
    merge_customers(people.other_customer, into=people.customer, by=people.supervisor)
    newcomer = create_customer(by=None, name="Newcomer")
    url = reverse("conversations:merge_customer", args=[newcomer.pk])

    response = signed_in(people.supervisor).post(url, {"into": people.other_customer.pk})

    assert response.status_code == 409
    assert "merge into that one instead" in response.content.decode()
    assert Conversation.objects.filter(customer=newcomer).count() == 0
    assert Customer.objects.get(pk=newcomer.pk).merged_into is None


# --- who gets in ----------------------------------------------------------------------------


def staff_urls(people: Personas) -> list[str]:
    customer, company = people.customer.pk, people.company.pk
    return [
        reverse("customers:list"),
        reverse("customers:detail", args=[customer]),
        reverse("customers:companies"),
        reverse("customers:company", args=[company]),
        reverse("conversations:customer_conversations", args=[customer]),
        reverse("conversations:company_conversations", args=[company]),
        reverse("conversations:merge_customer", args=[customer]),
    ]


def test_customer_logins_are_sent_to_the_portal_even_for_their_own_record(
    people: Personas,
) -> None:
    client = signed_in(people.customer_user)

    for url in staff_urls(people):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:home") == "/portal/"
        assert people.customer.name not in response.content.decode()
        assert people.company.name not in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(people: Personas) -> None:
    client = Client()

    for url in staff_urls(people):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_customer_is_not_found(people: Personas) -> None:
    client = signed_in(people.agent)

    assert client.get(reverse("customers:detail", args=[999999])).status_code == 404
    url = reverse("conversations:customer_conversations", args=[999999])
    assert client.get(url).status_code == 404
