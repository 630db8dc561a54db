from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tools.check_writes import Targets, check_source, main, protected_targets


@pytest.fixture(scope="module")
def targets() -> Targets:
    return protected_targets()


def violations(
    source: str, targets: Targets, path: str = "src/frontdesk/mail/intake.py"
) -> list[str]:
    return [v.message for v in check_source(textwrap.dedent(source), path, targets)]


def test_related_manager_names_come_from_the_models(targets: Targets) -> None:
    assert {"messages", "conversations", "attachments", "tags"} <= targets.accessors
    assert "conversations_conversation" in targets.tables


@pytest.mark.parametrize(
    "source",
    [
        "Conversation.objects.filter(pk=1).update(status='open')",
        "Message.objects.create(text='hi')",
        "ConversationTag.objects.bulk_create([])",
        "Attachment._default_manager.filter(pk=1).delete()",
        "Conversation(subject='x').save()",
        "customer.conversations.update(status='closed')",
        "conversation.messages.create(text='x')",
        "conversation.tags.add(tag)",
        "tag.conversations.clear()",
        "async def f():\n    await Message.objects.filter().adelete()",
        "def f(c: Conversation) -> None:\n    c.save()",
        "def f(c: 'Conversation | None') -> None:\n    c.delete()",
        "qs = Conversation.objects.filter(team=t)\nqs.update(team=None)",
        "for m in conversation.messages.all():\n    m.save()",
        "conversation.save(update_fields=['status'])",
        "self.message.delete()",
        "def access_conversation(u, n) -> Conversation: ...\n"
        "c = access_conversation(u, 1)\nc.save()",
        "cursor.execute('UPDATE conversations_conversation SET status = %s', ['open'])",
        "cursor.execute('delete from \"conversations_message\" where id = 1')",
    ],
)
def test_writes_to_conversation_rows_are_reported(source: str, targets: Targets) -> None:
    assert len(violations(source, targets)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "Conversation.objects.filter(pk=1).first()",
        "Customer.objects.filter(pk=1).update(name='x')",
        "conversation.customer.save()",
        "conversation.customer.delete()",
        "customer.save()",
        "tags = set()\ntags.add('x')",
        "Conversation._meta.get_field('status')",
        "cursor.execute('SELECT * FROM conversations_conversation')",
        "conversation.save()  # check-writes: ok rebuilt by the search index migration",
    ],
)
def test_reads_and_other_rows_are_not_reported(source: str, targets: Targets) -> None:
    assert violations(source, targets) == []


def test_the_service_module_and_migrations_may_write(targets: Targets) -> None:
    source = "Conversation.objects.filter(pk=1).update(status='open')"

    assert violations(source, targets, "src/frontdesk/conversations/services.py") == []
    assert violations(source, targets, "src/frontdesk/conversations/migrations/0002_x.py") == []
    assert len(violations(source, targets, "src/frontdesk/conversations/selectors.py")) == 1


def test_main_fails_and_names_the_line_of_each_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "rogue.py"
    module.write_text("def close(conversation):\n    conversation.delete()\n")

    assert main([str(module)]) == 1

    out = capsys.readouterr().out
    assert f"{module}:2:5: conversation.delete() writes" in out


def test_main_passes_on_the_project_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["src"]) == 0
