"""Attachment files are stored before any transaction opens; the services then write only rows.

The storage used here is a real FileSystemStorage that notes, for every file it
saves, whether the database connection was inside a transaction at that moment.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client

from frontdesk.accounts.services import create_api_token
from frontdesk.conversations import services
from frontdesk.conversations.models import Attachment, Conversation, Status, attachment_name
from frontdesk.core.errors import Conflict, InvalidInput
from frontdesk.mail.intake import ingest_raw
from tests.conftest import Personas
from tests.conversations.helpers import open_conversation

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass(frozen=True)
class Saved:
    name: str
    in_transaction: bool


class RecordingStorage(FileSystemStorage):
    """Saves like the default storage and notes whether a transaction was open meanwhile."""

    saved: list[Saved] = []  # noqa: RUF012 - shared on purpose: Django builds its own instance

    def save(self, name: str | None, content: IO[Any], max_length: int | None = None) -> str:
        RecordingStorage.saved.append(Saved(name or "", connection.in_atomic_block))
        return super().save(name, content, max_length=max_length)


@pytest.fixture
def recording_storage(settings: Any) -> Iterator[list[Saved]]:
    RecordingStorage.saved = []
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.RecordingStorage"},
    }
    yield RecordingStorage.saved
    RecordingStorage.saved = []


def _attachment_saves(saved: list[Saved]) -> list[Saved]:
    return [s for s in saved if s.name.startswith("attachments/")]


# --- store_uploads ------------------------------------------------------------------------


@pytest.mark.django_db
def test_store_uploads_writes_the_file_content_addressed_and_sniffs_its_type(
    people: Personas,
) -> None:
    [stored] = services.store_uploads(
        [services.Upload(filename="shot.bin", content=PNG, content_id="img1@x", inline=True)]
    )

    digest = hashlib.sha256(PNG).hexdigest()
    assert stored.name == attachment_name(digest)
    assert stored.sha256 == digest
    assert stored.size == len(PNG)
    assert stored.content_type == "image/png"
    assert (stored.content_id, stored.inline) == ("img1@x", True)
    with default_storage.open(stored.name, "rb") as handle:
        assert handle.read() == PNG


@pytest.mark.django_db
def test_storing_the_same_bytes_again_writes_no_second_file(
    people: Personas, recording_storage: list[Saved]
) -> None:
    first = services.store_uploads([services.Upload("a.png", PNG)])
    second = services.store_uploads([services.Upload("b.png", PNG)])

    assert first[0].name == second[0].name
    assert len(_attachment_saves(recording_storage)) == 1
    assert second[0].filename == "b.png"


@pytest.mark.django_db
def test_store_uploads_refuses_a_file_over_the_limit_without_writing_it(
    people: Personas, settings: Any, recording_storage: list[Saved]
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 10

    with pytest.raises(InvalidInput) as refused:
        services.store_uploads([services.Upload("big.bin", b"x" * 11)])

    assert refused.value.field == "attachments"
    assert recording_storage == []


@pytest.mark.django_db
def test_stored_uploads_pass_through_store_uploads_unchanged(people: Personas) -> None:
    stored = services.store_uploads([services.Upload("a.png", PNG)])
    assert services.store_uploads(stored) == stored


# --- services take what was stored --------------------------------------------------------


@pytest.mark.django_db
def test_a_service_given_stored_uploads_writes_only_rows(
    people: Personas, recording_storage: list[Saved]
) -> None:
    conversation = open_conversation(people.customer, team=people.orders)
    stored = services.store_uploads(
        [services.Upload("shot.png", PNG, content_id="shot@x", inline=True)]
    )
    saves_before = len(recording_storage)

    note = services.add_note(conversation, by=people.agent, text="see", attachments=stored)

    assert len(recording_storage) == saves_before
    attachment = note.attachments.get()
    assert attachment.file.name == stored[0].name
    assert (attachment.filename, attachment.content_type) == ("shot.png", "image/png")
    assert (attachment.content_id, attachment.inline) == ("shot@x", True)


@pytest.mark.django_db
def test_a_service_refused_after_storing_leaves_no_attachment_rows(people: Personas) -> None:
    # The file stays in storage, unreferenced: content-addressed, it is harmless and the
    # same bytes sent again reuse it. Nothing in the database points at it.
    conversation = open_conversation(people.customer, team=people.orders)
    services.set_status(conversation, by=people.agent, status=Status.SOLVED)
    services.set_status(conversation, by=people.agent, status=Status.CLOSED)
    stored = services.store_uploads([services.Upload("late.png", PNG)])

    with pytest.raises(Conflict):
        services.add_reply(conversation, by=people.agent, text="too late", attachments=stored)

    assert not Attachment.objects.exists()
    assert conversation.messages.count() == 1
    assert default_storage.exists(stored[0].name)


@pytest.mark.django_db
def test_a_refused_new_conversation_with_raw_uploads_leaves_no_attachment_rows(
    people: Personas,
) -> None:
    with pytest.raises(InvalidInput):
        open_conversation(
            people.customer,
            team=people.orders,
            fields={"no_such_field": "x"},
            attachments=[services.Upload("a.png", PNG)],
        )

    assert not Conversation.objects.exists()
    assert not Attachment.objects.exists()


# --- no file is written inside a transaction, whatever the door ---------------------------
# These run without the test's wrapping transaction, so in_atomic_block tells the truth.


@pytest.mark.django_db(transaction=True)
def test_the_recording_storage_notices_a_write_inside_a_transaction(
    people: Personas, recording_storage: list[Saved]
) -> None:
    # What the tests below would see if a door stored its files under its own transaction.
    with transaction.atomic():
        services.store_uploads([services.Upload("a.png", PNG)])

    assert _attachment_saves(recording_storage) == [Saved(attachment_name(_sha(PNG)), True)]


@pytest.mark.django_db(transaction=True)
def test_a_service_stores_files_before_its_transaction_opens(
    people: Personas, recording_storage: list[Saved]
) -> None:
    assert not connection.in_atomic_block
    conversation = open_conversation(
        people.customer, team=people.orders, attachments=[services.Upload("a.png", PNG)]
    )

    assert Attachment.objects.filter(message__conversation=conversation).count() == 1
    assert _attachment_saves(recording_storage) == [Saved(attachment_name(_sha(PNG)), False)]


@pytest.mark.django_db(transaction=True)
def test_mail_intake_stores_attachments_before_its_transaction_opens(
    people: Personas, recording_storage: list[Saved]
) -> None:
    raw = (
        b"From: Jana <jana@acme.example>\r\nTo: support@frontdesk.example\r\n"
        b"Subject: Screenshot\r\nMessage-ID: <shot-1@acme.example>\r\n"
        b"Date: Mon, 1 Jun 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file.\r\n"
        b"--b1\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="shot.png"\r\n\r\n'
        + base64.encodebytes(PNG).replace(b"\n", b"\r\n")
        + b"--b1--\r\n"
    )

    result = ingest_raw(raw, mailbox=None, source="test")

    assert result.outcome == "created"
    assert Attachment.objects.get().filename == "shot.png"
    assert _attachment_saves(recording_storage) == [Saved(attachment_name(_sha(PNG)), False)]
    # The original mail is kept outside the transaction too.
    assert all(not saved.in_transaction for saved in recording_storage)


@pytest.mark.django_db(transaction=True)
def test_the_new_conversation_page_stores_files_before_its_transaction_opens(
    client: Client, people: Personas, recording_storage: list[Saved]
) -> None:
    client.force_login(people.agent)

    response = client.post(
        "/conversations/new/",
        {"new_name": "Walk-in Wanda", "new_email": "wanda@example.net", "channel": "visit",
         "subject": "Broken kettle", "text": "Photo attached.", "team": people.orders.pk,
         "attachments": SimpleUploadedFile("kettle.png", PNG, content_type="image/png")},
    )  # fmt: skip

    assert response.status_code == 302
    conversation = Conversation.objects.get(subject="Broken kettle")
    assert conversation.messages.get().attachments.get().filename == "kettle.png"
    assert _attachment_saves(recording_storage) == [Saved(attachment_name(_sha(PNG)), False)]


@pytest.mark.django_db(transaction=True)
def test_the_api_stores_files_before_the_transaction_that_creates_the_customer(
    people: Personas, recording_storage: list[Saved]
) -> None:
    _token, raw_token = create_api_token(people.agent, by=None, name="tests")
    api = Client(headers={"Authorization": f"Bearer {raw_token}"})

    response = api.post(
        "/api/v1/conversations",
        {"subject": "Broken kettle", "customer_email": "wanda@example.net",
         "team_id": people.orders.pk,
         "message": {"text": "Photo attached.", "attachments": [
             {"filename": "kettle.png", "content_base64": base64.b64encode(PNG).decode()}]}},
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert Attachment.objects.get().filename == "kettle.png"
    assert _attachment_saves(recording_storage) == [Saved(attachment_name(_sha(PNG)), False)]


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
