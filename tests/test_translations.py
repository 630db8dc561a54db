"""Every user-visible string is translated into each shipped language, and the
translations are the ones Django serves."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from tools.messages import TRANSLATED_LANGUAGES, Message, catalog_problems, source_messages


@pytest.fixture(scope="module")
def messages() -> list[Message]:
    return source_messages()


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_catalogue_is_complete(language: str, messages: list[Message]) -> None:
    assert catalog_problems(language, messages) == []


def test_source_has_the_workspace_and_portal_strings(messages: list[Message]) -> None:
    origins = {message.origin.split("/")[0] for message in messages}
    assert {"accounts", "conversations", "customers", "portal", "core"} <= origins


@pytest.mark.parametrize(
    ("language", "expected"),
    [("pl", "Zaloguj"), ("cs", "Přihlás"), ("ru", "Войти"), ("id", "Masuk"), ("th", "เข้าสู่ระบบ")],
)
def test_compiled_catalogue_is_served(language: str, expected: str) -> None:
    with translation.override(language):
        assert expected in translation.gettext("Sign in")


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_sign_in_page_follows_the_browser_language(client: Client, language: str) -> None:
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    with translation.override(language):
        assert translation.gettext("Sign in") in html
