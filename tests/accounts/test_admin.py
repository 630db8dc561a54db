"""The Django admin for people, teams and tokens: admins only, audited, no secrets."""

from __future__ import annotations

from django.test import Client

from frontdesk.accounts.models import ApiToken, Role, User
from frontdesk.accounts.services import create_api_token
from frontdesk.core.models import Event
from tests.conftest import Personas


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_sees_the_user_list(people: Personas) -> None:
    response = signed_in(people.admin).get("/admin/accounts/user/")

    assert response.status_code == 200
    assert "anna@example.com" in response.content.decode()


def test_agent_is_sent_to_the_login_page(people: Personas) -> None:
    response = signed_in(people.agent).get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_flag_without_admin_role_opens_no_model_page(people: Personas) -> None:
    User.objects.filter(pk=people.supervisor.pk).update(is_staff=True)
    client = signed_in(User.objects.get(pk=people.supervisor.pk))

    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get("/admin/customers/customer/").status_code == 403


def test_admin_adds_an_agent_through_the_admin(people: Personas) -> None:
    response = signed_in(people.admin).post(
        "/admin/accounts/user/add/",
        {
            "email": "Zed@Example.com",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "role": Role.AGENT,
            "first_name": "Zed",
            "last_name": "",
            "languages": "en, CS",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-team": str(people.billing.pk),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="zed@example.com")
    assert user.username == "zed@example.com"
    assert user.languages == ["en", "cs"]
    assert not user.is_staff
    assert list(user.teams.all()) == [people.billing]
    assert Event.objects.filter(
        action="user.created_in_admin", object_id=user.pk, actor=people.admin, via="web"
    ).exists()


def test_admin_refuses_a_second_user_with_the_same_email_in_another_case(
    people: Personas,
) -> None:
    response = signed_in(people.admin).post(
        "/admin/accounts/user/add/",
        {
            "email": "ANNA@example.com",
            "usable_password": "false",
            "role": Role.AGENT,
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="anna@example.com").count() == 1


def test_team_page_offers_only_staff_as_lead_and_members(people: Personas) -> None:
    response = signed_in(people.admin).get(f"/admin/accounts/team/{people.orders.pk}/change/")

    assert response.status_code == 200
    leads = response.context["adminform"].form.fields["lead"].queryset
    members = response.context["inline_admin_formsets"][0].formset.empty_form.fields["user"]
    assert people.other_agent in leads
    assert people.customer_user not in leads
    assert people.other_agent in members.queryset
    assert people.customer_user not in members.queryset


def test_token_page_shows_the_digest_but_never_the_secret(people: Personas) -> None:
    token, raw = create_api_token(people.agent, by=people.agent, name="CRM")
    client = signed_in(people.admin)

    page = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()

    assert token.digest in page
    assert raw.split("_", 2)[2] not in page
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403


def test_admin_revokes_tokens_with_the_list_action(people: Personas) -> None:
    token, _raw = create_api_token(people.agent, by=people.agent)

    response = signed_in(people.admin).post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [str(token.pk)]},
    )

    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert Event.objects.filter(
        action="api_token.revoked", object_id=token.pk, actor=people.admin, via="web"
    ).exists()


def test_promoting_a_user_to_admin_in_the_admin_opens_the_admin_site_to_them(
    people: Personas,
) -> None:
    response = signed_in(people.admin).post(
        f"/admin/accounts/user/{people.agent.pk}/change/",
        {
            "email": "anna@example.com",
            "first_name": "Anna",
            "last_name": "",
            "language": "en",
            "time_zone": "UTC",
            "role": Role.ADMIN,
            "languages": "th, en",
            "presence": "offline",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(people.agent.memberships.get().pk),
            "memberships-0-user": str(people.agent.pk),
            "memberships-0-team": str(people.orders.pk),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    agent = User.objects.get(pk=people.agent.pk)
    assert (agent.role, agent.is_staff, agent.languages) == (Role.ADMIN, True, ["th", "en"])
    assert signed_in(agent).get("/admin/accounts/team/").status_code == 200
    audit = Event.objects.get(action="user.changed_in_admin", object_id=agent.pk)
    assert "role" in audit.data["fields"]
