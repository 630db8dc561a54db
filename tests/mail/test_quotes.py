"""split_quoted / split_quoted_html: reply headers of each client and language, signatures."""

from __future__ import annotations

import time
from html import escape

import pytest

from frontdesk.mail.quotes import split_quoted, split_quoted_html

WHO = "Frontdesk Support <support@frontdesk.example>"

# Attribution lines as Gmail, Apple Mail and Thunderbird write them in each language.
ATTRIBUTIONS = [
    f"On Mon, Jun 3, 2024 at 10:15 AM {WHO} wrote:",
    f"On 3 Jun 2024, at 10:15, {WHO} wrote:",
    "On 6/3/24 10:15 AM, Frontdesk Support wrote:",
    f"W dniu pon., 3 cze 2024 o 10:15 {WHO} napisał(a):",
    f"Wiadomość napisana przez {WHO} w dniu 03.06.2024, o godz. 10:15:",
    "W dniu 3.06.2024 o 10:15, Frontdesk Support pisze:",
    f"Dne po 3. 6. 2024 10:15 uživatel {WHO} napsal:",
    f"po 3. 6. 2024 v 10:15 odesílatel {WHO} napsal:",
    f"Dne 3. 6. 2024 v 10:15, {WHO} napsal(a):",
    f"пн, 3 июн. 2024 г. в 10:15, {WHO}:",
    f"3 июня 2024 г., в 10:15, {WHO} написал(а):",
    "03.06.2024 10:15, Frontdesk Support пишет:",
    f"Pada tanggal Sen, 3 Jun 2024 pukul 10.15 {WHO} menulis:",
    f"Pada 3 Jun 2024, pukul 10.15, {WHO} menulis:",
    f"เมื่อ จ. 3 มิ.ย. 2024 เวลา 10:15 {WHO} เขียนว่า:",
    f"เมื่อ 3 มิ.ย. 2567 เวลา 10:15 {WHO} เขียนว่า:",
]

# Outlook's header block labels (from, sent, to, subject) per language.
OUTLOOK_LABELS = [
    ("From", "Sent", "To", "Subject"),
    ("Od", "Wysłano", "Do", "Temat"),
    ("Od", "Odesláno", "Komu", "Předmět"),
    ("От", "Отправлено", "Кому", "Тема"),
    ("Dari", "Dikirim", "Kepada", "Perihal"),
    ("จาก", "ส่ง", "ถึง", "เรื่อง"),
]
ORIGINAL_MESSAGE = [
    "-----Original Message-----",
    "-----Wiadomość oryginalna-----",
    "-----Původní zpráva-----",
    "-----Исходное сообщение-----",
    "-----Pesan Asli-----",
    "-----ข้อความต้นฉบับ-----",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_attribution_line_starts_the_quote(attribution: str) -> None:
    text = f"New answer here.\n\n{attribution}\n\n> Old question?\n> More.\n"
    visible, quoted = split_quoted(text)
    assert visible == "New answer here."
    assert quoted.startswith(attribution)
    assert "Old question?" in quoted


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_attribution_in_html_starts_the_quote(attribution: str) -> None:
    html = (
        f"<p>New answer here.</p><div>{escape(attribution)}</div>"
        "<blockquote>Old question?</blockquote>"
    )
    visible, quoted = split_quoted_html(html)
    assert visible == "<p>New answer here.</p>"
    assert "Old question?" in quoted


def test_attribution_wrapped_over_two_lines_is_recognised() -> None:
    text = (
        "Thanks.\n\nOn Mon, Jun 3, 2024 at 10:15 AM Frontdesk Support Team <\n"
        "support@frontdesk.example> wrote:\n\n> Old\n"
    )
    assert split_quoted(text) == (
        "Thanks.",
        "On Mon, Jun 3, 2024 at 10:15 AM Frontdesk Support Team <\n"
        "support@frontdesk.example> wrote:\n\n> Old",
    )


def test_wrapped_match_does_not_swallow_the_line_before_the_attribution() -> None:
    text = f"On Monday we talked.\nOn Mon, 3 Jun 2024 at 10:00, {WHO} wrote:\n> x\n"
    assert split_quoted(text)[0] == "On Monday we talked."


def test_prose_that_says_wrote_is_not_a_quote() -> None:
    text = "On Monday my colleague wrote:\nthe parcel was damaged.\n"
    assert split_quoted(text) == (text.strip("\n"), "")


@pytest.mark.parametrize(("sender", "sent", "to", "subject"), OUTLOOK_LABELS)
def test_outlook_header_block_starts_the_quote_in_each_language(
    sender: str, sent: str, to: str, subject: str
) -> None:
    block = f"{sender}: {WHO}\n{sent}: 3.6.2024 10:15\n{to}: Jan <jan@x.pl>\n{subject}: Faktura\n"
    text = f"New answer.\n\n{'_' * 32}\n{block}\nOld text.\n"
    visible, quoted = split_quoted(text)
    assert visible == "New answer."
    assert quoted.startswith("_" * 32)
    without_rule = split_quoted(f"New answer.\n\n{block}\nOld text.\n")
    assert without_rule == ("New answer.", f"{block}\nOld text.")


@pytest.mark.parametrize(("sender", "sent", "to", "subject"), OUTLOOK_LABELS)
def test_outlook_header_block_in_html_starts_the_quote(
    sender: str, sent: str, to: str, subject: str
) -> None:
    html = (
        f"<p>New answer.</p><p><b>{sender}:</b> Support<br><b>{sent}:</b> Monday<br>"
        f"<b>{to}:</b> Jan<br><b>{subject}:</b> Faktura</p><p>Old text.</p>"
    )
    visible, quoted = split_quoted_html(html)
    assert visible == "<p>New answer.</p>"
    assert "Old text." in quoted


def test_a_from_line_alone_is_not_an_outlook_header() -> None:
    text = "From: the warehouse in Łódź\nthe parcel left on Monday.\n"
    assert split_quoted(text)[1] == ""


@pytest.mark.parametrize("separator", ORIGINAL_MESSAGE)
def test_original_message_separator_starts_the_quote(separator: str) -> None:
    visible, quoted = split_quoted(f"New.\n\n{separator}\nFrom: x\n\nOld.\n")
    assert visible == "New."
    assert quoted.startswith(separator)


def test_trailing_quoted_block_is_hidden() -> None:
    assert split_quoted("Yes.\n\n> Can you?\n> Please.\n") == ("Yes.", "> Can you?\n> Please.")


def test_interleaved_reply_is_shown_whole() -> None:
    text = "> Size?\nLarge.\n> Colour?\nBlue.\n"
    assert split_quoted(text) == (text.strip("\n"), "")


def test_message_that_is_all_quote_is_shown_whole() -> None:
    assert split_quoted("> only a quote\n") == ("> only a quote", "")
    html = '<div class="gmail_quote">only a quote</div>'
    assert split_quoted_html(html) == (html, "")


def test_signature_after_dash_dash_is_hidden() -> None:
    assert split_quoted("Hello.\n-- \nJane\nACME\n") == ("Hello.", "-- \nJane\nACME")


def test_mobile_signature_at_the_end_is_hidden() -> None:
    for line in ("Sent from my iPhone", "Wysłane z iPhone'a", "Отправлено с iPhone"):
        assert split_quoted(f"Hello.\n\n{line}\n") == ("Hello.", line)


def test_mobile_signature_phrase_in_the_middle_is_kept() -> None:
    text = "Hello.\nSent from my iPhone\nmore text\nand more\nand more\nend\n"
    assert split_quoted(text)[1] == ""


@pytest.mark.parametrize(
    "marker",
    [
        '<div class="gmail_quote">',
        '<div class="gmail_quote gmail_quote_container">',
        '<div id="divRplyFwdMsg" dir="ltr">',
        '<blockquote type="cite">',
        '<div class="moz-cite-prefix">',
        '<div class="yahoo_quoted">',
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">',
    ],
)
def test_html_quote_markers_start_the_quote(marker: str) -> None:
    html = f'<div dir="ltr">New.</div><br>{marker}Old.</div>'
    visible, quoted = split_quoted_html(html)
    assert visible == '<div dir="ltr">New.</div>'
    assert quoted.startswith(marker)


def test_outlook_rule_before_its_header_goes_with_the_quote() -> None:
    html = '<p>New.</p><div id="appendonsend"></div><hr style="x"><div id="divRplyFwdMsg">Old</div>'
    assert split_quoted_html(html)[0] == "<p>New.</p>"


def test_html_without_quote_is_unchanged() -> None:
    html = "<p>Just a message</p><blockquote>a cited sentence</blockquote><p>my comment</p>"
    assert split_quoted_html(html) == (html, "")


def test_splitting_a_huge_text_takes_bounded_time() -> None:
    text = "line of text\n" * 200_000 + "> quoted\n"
    started = time.perf_counter()
    visible, quoted = split_quoted(text)
    assert time.perf_counter() - started < 2.0  # measured about 0.1 s
    assert quoted == "> quoted"
    html = "<div>row</div>" * 200_000
    started = time.perf_counter()
    assert split_quoted_html(html) == (html, "")
    assert time.perf_counter() - started < 2.0
