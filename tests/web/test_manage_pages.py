"""The Manage pages: users, teams, custom fields and tags, for admins only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from frontdesk.accounts.models import Membership, Role, Team, User
from frontdesk.conversations.models import CustomFieldDefinition, Tag
from frontdesk.conversations.services import create_field_definition
from frontdesk.core.models import Event
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

MANAGE_PAGES = [
    "accounts:manage_users",
    "accounts:manage_user_new",
    "accounts:manage_teams",
    "accounts:manage_team_new",
    "conversations:manage_fields",
    "conversations:manage_field_new",
    "conversations:manage_tags",
]


@pytest.fixture
def admin_client(client: Client, people: Personas) -> Client:
    client.force_login(people.admin)
    return client


@pytest.mark.parametrize("name", MANAGE_PAGES)
@pytest.mark.parametrize("persona", ["agent", "supervisor", "customer_user"])
def test_manage_pages_are_forbidden_to_everyone_but_admins(
    client: Client, people: Personas, name: str, persona: str
) -> None:
    client.force_login(getattr(people, persona))

    assert client.get(reverse(name)).status_code == 403


def test_manage_pages_send_strangers_to_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:manage_users"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", MANAGE_PAGES)
def test_every_manage_page_shows_the_manage_navigation(admin_client: Client, name: str) -> None:
    page = admin_client.get(reverse(name)).content.decode()

    for target in ("manage_users", "manage_teams"):
        assert reverse(f"accounts:{target}") in page
    for target in ("manage_fields", "manage_tags"):
        assert reverse(f"conversations:{target}") in page


# --- users ------------------------------------------------------------------------------------


def test_user_list_shows_role_teams_and_state(
    admin_client: Client, people: Personas, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("accounts:manage_users"))

    page = response.content.decode()
    assert "anna@example.com" in page
    assert "Orders" in page
    assert "Supervisor" in page


def test_create_user_with_password(admin_client: Client, people: Personas) -> None:
    response = admin_client.post(
        reverse("accounts:manage_user_new"),
        {
            "email": "nina@example.com",
            "first_name": "Nina",
            "role": Role.AGENT,
            "teams": [people.billing.pk],
            "skills": "refunds, German",
            "languages": "de, en",
            "password": "a long enough passphrase",
        },
        follow=True,
    )

    assert "Saved." in response.content.decode()
    nina = User.objects.get(email="nina@example.com")
    assert nina.check_password("a long enough passphrase")
    assert list(nina.teams.all()) == [people.billing]
    assert sorted(s.name for s in nina.skills.all()) == ["German", "refunds"]
    assert nina.languages == ["de", "en"]


def test_create_user_without_password_emails_a_link_to_set_one(
    admin_client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    admin_client.post(
        reverse("accounts:manage_user_new"),
        {"email": "omar@example.com", "first_name": "Omar", "role": Role.SUPERVISOR},
    )

    omar = User.objects.get(email="omar@example.com")
    assert not omar.has_usable_password()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["omar@example.com"]
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", mailoutbox[0].body)
    assert link is not None
    anonymous = Client()
    set_url = anonymous.get(link.group(1), follow=True).redirect_chain[-1][0]
    anonymous.post(
        set_url, {"new_password1": "omar's own words", "new_password2": "omar's own words"}
    )
    omar.refresh_from_db()
    assert omar.check_password("omar's own words")


def test_create_user_with_taken_email_shows_the_error_on_the_field(
    admin_client: Client, people: Personas
) -> None:
    response = admin_client.post(
        reverse("accounts:manage_user_new"), {"email": "ANNA@example.com", "role": Role.AGENT}
    )

    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["email"])


def test_edit_user_role_teams_and_sees_all_teams(admin_client: Client, people: Personas) -> None:
    url = reverse("accounts:manage_user", args=[people.agent.pk])
    assert admin_client.get(url).context["form"].initial["teams"] == [people.orders]

    response = admin_client.post(
        url,
        {
            "first_name": "Anna",
            "role": Role.SUPERVISOR,
            "teams": [people.orders.pk, people.billing.pk],
            "sees_all_teams": "on",
            "skills": "",
            "languages": "cs",
        },
        follow=True,
    )

    assert "Saved." in response.content.decode()
    anna = User.objects.get(pk=people.agent.pk)
    assert anna.role == Role.SUPERVISOR
    assert anna.sees_all_teams
    assert set(anna.teams.all()) == {people.orders, people.billing}
    assert anna.languages == ["cs"]


def test_deactivate_and_reactivate_user(admin_client: Client, people: Personas) -> None:
    url = reverse("accounts:manage_user_active", args=[people.agent.pk])

    response = admin_client.post(url, {"active": "0"}, follow=True)

    assert "was deactivated" in response.content.decode()
    assert not User.objects.get(pk=people.agent.pk).is_active
    agent_client = Client()
    agent_client.force_login(people.agent)
    assert agent_client.get(reverse("accounts:settings")).status_code == 302

    admin_client.post(url, {"active": "1"})

    assert User.objects.get(pk=people.agent.pk).is_active
    assert User.objects.filter(pk=people.agent.pk).exists()


def test_admin_cannot_deactivate_themselves(admin_client: Client, people: Personas) -> None:
    url = reverse("accounts:manage_user_active", args=[people.admin.pk])

    response = admin_client.post(url, {"active": "0"}, follow=True)

    assert "cannot deactivate yourself" in response.content.decode()
    assert User.objects.get(pk=people.admin.pk).is_active


# --- teams ------------------------------------------------------------------------------------


def test_create_team_with_lead_and_members(admin_client: Client, people: Personas) -> None:
    response = admin_client.post(
        reverse("accounts:manage_team_new"),
        {
            "name": "Returns",
            "email": "returns@example.com",
            "lead": people.supervisor.pk,
            "members": [people.agent.pk],
        },
        follow=True,
    )

    assert "Saved." in response.content.decode()
    team = Team.objects.get(name="Returns")
    assert team.email == "returns@example.com"
    assert team.lead == people.supervisor
    assert set(team.members.all()) == {people.agent, people.supervisor}


def test_edit_team_members(admin_client: Client, people: Personas) -> None:
    url = reverse("accounts:manage_team", args=[people.orders.pk])

    admin_client.post(
        url, {"name": "Orders", "email": "", "lead": "", "members": [people.other_agent.pk]}
    )

    members = set(Membership.objects.filter(team=people.orders).values_list("user_id", flat=True))
    assert members == {people.other_agent.pk}
    assert Event.objects.filter(action="team.updated", object_id=people.orders.pk).exists()


def test_team_name_taken_shows_the_error(admin_client: Client, people: Personas) -> None:
    url = reverse("accounts:manage_team", args=[people.orders.pk])

    response = admin_client.post(url, {"name": "Billing", "members": []})

    assert "already exists" in str(response.context["form"].errors["name"])


def test_team_list(admin_client: Client, people: Personas) -> None:
    page = admin_client.get(reverse("accounts:manage_teams")).content.decode()

    assert "Orders" in page
    assert "Billing" in page
    assert "Sue Visor" in page


# --- custom fields ----------------------------------------------------------------------------


def test_create_choice_field(admin_client: Client, people: Personas) -> None:
    response = admin_client.post(
        reverse("conversations:manage_field_new"),
        {
            "key": "product",
            "label": "Product",
            "kind": "choice",
            "choices": "Phone\n\nLaptop\n",
            "required_to_solve": "on",
            "position": "2",
        },
        follow=True,
    )

    assert "Saved." in response.content.decode()
    field = CustomFieldDefinition.objects.get(key="product")
    assert field.choices == ["Phone", "Laptop"]
    assert field.required_to_solve
    assert not field.visible_to_customers
    assert field.position == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "choice", "choices": "A\nA"}, "choices"),
        ({"kind": "choice", "choices": ""}, "choices"),
        ({"kind": "text", "choices": "A"}, "choices"),
        ({"key": "Bad Key"}, "key"),
        ({"kind": "colour"}, "kind"),
    ],
)
def test_bad_field_definitions_show_the_error_on_the_field(
    admin_client: Client, people: Personas, data: dict[str, str], field: str
) -> None:
    post = {"key": "product", "label": "Product", "kind": "text", "position": "0", **data}

    response = admin_client.post(reverse("conversations:manage_field_new"), post)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CustomFieldDefinition.objects.exists()


def test_edit_field_changes_label_and_choices_but_not_key(
    admin_client: Client, people: Personas
) -> None:
    create_field_definition(by=None, key="product", label="Product", kind="choice", choices=["A"])
    url = reverse("conversations:manage_field", args=["product"])

    admin_client.post(
        url,
        {"label": "Device", "choices": "A\nB", "position": "1", "active": "on", "key": "x"},
    )

    field = CustomFieldDefinition.objects.get()
    assert (field.key, field.label, field.choices, field.position) == (
        "product",
        "Device",
        ["A", "B"],
        1,
    )


def test_deactivate_field(admin_client: Client, people: Personas) -> None:
    create_field_definition(by=None, key="order_no", label="Order", kind="text")

    admin_client.post(
        reverse("conversations:manage_field_active", args=["order_no"]), {"active": "0"}
    )

    assert not CustomFieldDefinition.objects.get().active
    page = admin_client.get(reverse("conversations:manage_fields")).content.decode()
    assert "Reactivate" in page


# --- tags -------------------------------------------------------------------------------------


def test_tags_list_usage_counts(admin_client: Client, people: Personas) -> None:
    open_conversation(people.customer, team=people.orders, tags=["refund", "vip"])
    open_conversation(people.customer, team=people.orders, tags=["refund"])

    tags = admin_client.get(reverse("conversations:manage_tags")).context["tags"]

    assert [(t.name, t.usage) for t in tags] == [("refund", 2), ("vip", 1)]


def test_create_tag_page(admin_client: Client, people: Personas) -> None:
    response = admin_client.post(
        reverse("conversations:manage_tags"), {"name": "Late delivery"}, follow=True
    )

    assert "Saved." in response.content.decode()
    assert Tag.objects.filter(name="late-delivery").exists()


def test_rename_tag_page_and_conflict(admin_client: Client, people: Personas) -> None:
    open_conversation(people.customer, team=people.orders, tags=["refund", "vip"])
    refund = Tag.objects.get(name="refund")
    url = reverse("conversations:manage_tag_rename", args=[refund.pk])

    clash = admin_client.post(url, {"name": "vip"})
    assert clash.status_code == 422
    assert "A tag with this name exists." in clash.content.decode()

    admin_client.post(url, {"name": "refunds"})
    assert Tag.objects.get(pk=refund.pk).name == "refunds"


def test_delete_tag_page(admin_client: Client, people: Personas) -> None:
    conv = open_conversation(people.customer, team=people.orders, tags=["refund"])
    refund = Tag.objects.get(name="refund")

    response = admin_client.post(
        reverse("conversations:manage_tag_delete", args=[refund.pk]), follow=True
    )

    assert "was deleted" in response.content.decode()
    assert not conv.tags.exists()
    assert not Tag.objects.exists()
