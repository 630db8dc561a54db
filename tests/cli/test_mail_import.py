"""`frontdesk mail import PATH`: .eml files, directories, maildirs and mboxes into the intake."""

from __future__ import annotations

import json
import mailbox
import shutil
from pathlib import Path

import pytest

from frontdesk.cli import main
from frontdesk.conversations.models import Conversation
from frontdesk.mail.models import InboundMessage, Quarantine
from frontdesk.mail.services import create_mailbox
from tests.cli.conftest import RunCli, error_lines
from tests.conftest import Personas
from tests.mail.test_intake import mail

CORPUS = Path(__file__).resolve().parents[1] / "mail" / "corpus"


def run_import(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, int]]:
    code = main(["mail", "import", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else {}


def corpus_expectations() -> dict[str, int]:
    """What the corpus must give on a first import, from its expected.json."""
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    quarantined = sum(1 for e in expected.values() if "unparseable" in e or e.get("sender") == "")
    duplicates = sum(1 for e in expected.values() if "same_key_as" in e)
    # Delivery reports about mail this (empty) help desk never sent: nobody to tell.
    ignored = sum(1 for e in expected.values() if isinstance(e.get("bounce"), dict))
    total = len(expected)
    return {
        "messages": total,
        # No corpus message answers another, so every other one opens a conversation.
        "conversations_created": total - quarantined - duplicates - ignored,
        "threaded": 0,
        "quarantined": quarantined,
        "duplicates": duplicates,
        "ignored": ignored,
    }


@pytest.mark.django_db
def test_importing_the_corpus_twice_imports_each_message_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_code, first = run_import(capsys, str(CORPUS))
    conversations = Conversation.objects.count()

    second_code, second = run_import(capsys, str(CORPUS))

    assert (first_code, second_code) == (0, 0)
    assert first == corpus_expectations()
    assert conversations == first["conversations_created"]
    assert second == {
        "messages": first["messages"], "conversations_created": 0, "threaded": 0,
        "quarantined": 0, "duplicates": first["messages"], "ignored": 0,
    }  # fmt: skip
    assert Conversation.objects.count() == conversations
    assert Quarantine.objects.count() == first["quarantined"]


def test_a_single_eml_file_is_imported_into_the_mailbox_team(
    people: Personas, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    create_mailbox(by=None, name="Support", email="support@frontdesk.example",
                   default_team=people.billing)  # fmt: skip
    path = tmp_path / "one.eml"
    path.write_bytes(mail())

    code, counts = run_import(capsys, str(path), "--mailbox", "SUPPORT@frontdesk.example")

    assert (code, counts["messages"], counts["conversations_created"]) == (0, 1, 1)
    assert Conversation.objects.get().team == people.billing
    assert InboundMessage.objects.get().source == f"import:{path}"


def test_a_maildir_is_read_from_cur_and_new(
    db: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(mail(message_id="<one@example.com>", body="One"))
    box.add(mail(message_id="<two@example.com>", body="Two", in_reply_to="<one@example.com>"))
    seen = mailbox.MaildirMessage(mail(message_id="<three@example.com>", body="Three"))
    seen.set_subdir("cur")
    box.add(seen)
    box.close()

    code, counts = run_import(capsys, str(tmp_path / "Maildir"))

    assert code == 0
    assert counts["messages"] == 3
    assert counts["conversations_created"] + counts["threaded"] == 3
    assert counts["threaded"] == 1


def test_a_maildir_is_read_in_delivery_order_though_its_counters_are_unpadded(
    db: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = tmp_path / "Maildir" / "new"
    new.mkdir(parents=True)
    (tmp_path / "Maildir" / "cur").mkdir()
    # Delivered in the same second: M99 first, then M100, which sorts before it as text.
    (new / "1700000000.M99P7.host").write_bytes(mail(message_id="<one@example.com>"))
    reply = mail(message_id="<two@example.com>", in_reply_to="<one@example.com>")
    (new / "1700000000.M100P7.host").write_bytes(reply)

    code, counts = run_import(capsys, str(tmp_path / "Maildir"))

    assert code == 0
    assert (counts["conversations_created"], counts["threaded"]) == (1, 1)


def test_an_mbox_is_split_into_its_messages(
    db: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    box = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    for n in range(3):
        box.add(mail(message_id=f"<mbox{n}@example.com>", body=f"Message {n}"))
    box.close()

    code, counts = run_import(capsys, str(tmp_path / "archive.mbox"))

    assert (code, counts["messages"], counts["conversations_created"]) == (0, 3, 3)


def test_an_unknown_mailbox_is_one_line_and_imports_nothing(
    db: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shutil.copy(CORPUS / "plain-text-only.eml", tmp_path / "a.eml")

    code = main(["mail", "import", str(tmp_path), "--mailbox", "nobody@example.com"])

    assert code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "frontdesk: no mailbox with the address nobody@example.com"
    ]
    assert Conversation.objects.count() == 0


def test_a_directory_without_mail_is_one_line(
    db: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["mail", "import", str(tmp_path)])

    assert code == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_missing_path_is_one_line_and_a_failure(run_ready: RunCli, tmp_path: Path) -> None:
    result = run_ready("mail", "import", str(tmp_path / "nowhere"), "--json")

    assert result.returncode == 1
    assert error_lines(result) == [f"frontdesk: no such file or directory: {tmp_path / 'nowhere'}"]
    assert result.stdout == ""


def test_import_without_a_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["mail", "import"])

    assert exit_info.value.code == 2


def test_batches_commit_together_and_a_copy_in_a_later_batch_is_a_duplicate(
    db: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for n, (message_id, answers) in enumerate(
        [("<1@example.com>", ""), ("<2@example.com>", "<1@example.com>"),
         ("<3@example.com>", ""), ("<1@example.com>", ""), ("<4@example.com>", "")]
    ):  # fmt: skip
        (tmp_path / f"{n}.eml").write_bytes(mail(message_id=message_id, in_reply_to=answers))

    code, counts = run_import(capsys, str(tmp_path), "--batch", "2")

    assert code == 0
    assert counts == {
        "messages": 5, "conversations_created": 3, "threaded": 1,
        "quarantined": 0, "duplicates": 1, "ignored": 0,
    }  # fmt: skip
    assert InboundMessage.objects.count() == 4


def test_a_batch_size_below_one_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["mail", "import", ".", "--batch", "0"])

    assert exit_info.value.code == 2
    assert "--batch" in capsys.readouterr().err
