"""Translatable strings: extract them from the source and check the catalogues.

Extraction needs no GNU gettext: templates go through Django's own `templatize`
and the result, like the Python modules, through Babel's Python extractor.
`make messages` writes the catalogues with Django's makemessages (which does use
gettext); this module is what the tests use to hold them complete.

Usage: python tools/messages.py check   (prints one line per problem, exits 1 if any)
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po

SOURCE = Path(__file__).resolve().parents[1] / "src" / "frontdesk"
LOCALE_DIR = SOURCE / "locale"
TRANSLATED_LANGUAGES = ("pl", "cs", "ru", "id", "th")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|\{(\w+)\}")
SKIPPED_DIRS = {"migrations", "locale", "demo", "static"}


@dataclass(frozen=True)
class Message:
    msgid: str
    context: str | None
    origin: str


def _python_files() -> Iterator[Path]:
    for path in sorted(SOURCE.rglob("*.py")):
        if not SKIPPED_DIRS.intersection(path.relative_to(SOURCE).parts):
            yield path


def _template_files() -> Iterator[Path]:
    for path in sorted(SOURCE.rglob("templates/**/*")):
        if path.suffix in {".html", ".txt"}:
            yield path


def _extract(code: str, origin: str) -> Iterator[Message]:
    for _lineno, _funcname, messages, _comments in extract_python(
        io.BytesIO(code.encode("utf-8")), KEYWORDS, [], {}
    ):
        if _funcname in {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}:
            context, msgid = messages[0], messages[1]
        else:
            context = None
            msgid = messages if isinstance(messages, str) else messages[0]
        if msgid:
            yield Message(msgid=msgid, context=context, origin=origin)


def source_messages() -> list[Message]:
    """Every translatable string of the Python modules and templates."""
    import django
    from django.apps import apps
    from django.utils.translation.template import templatize

    if not apps.ready:
        django.setup()
    found: list[Message] = []
    for path in _python_files():
        found.extend(_extract(path.read_text(encoding="utf-8"), str(path.relative_to(SOURCE))))
    for path in _template_files():
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        # templatize keeps the template's indentation, which is not Python's: flatten it.
        code = "\n".join(line.strip() for line in code.splitlines())
        found.extend(_extract(code, str(path.relative_to(SOURCE))))
    return found


def load_catalog(language: str) -> Catalog:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    with po_path.open("rb") as source:
        return read_po(source, locale=language)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def placeholders_fit(translation: str, ids: list[str]) -> bool:
    """A translation uses the placeholders of its msgid. A plural form may also use those of
    msgid_plural or leave out the count: a language with one form ("%(counter)s items"
    for every number) needs the plural's, one with several may word its singular without it."""
    used = placeholders(translation)
    if len(ids) == 1:
        return used == placeholders(ids[0])
    each = [placeholders(text) for text in ids]
    return set.intersection(*each) <= used <= set.union(*each)


def catalog_problems(language: str, messages: list[Message]) -> list[str]:
    """What is missing or wrong in one language's catalogue, a line each."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    if not po_path.exists():
        return [f"{language}: no catalogue at locale/{language}/LC_MESSAGES/django.po"]
    catalog = load_catalog(language)
    problems: list[str] = []
    for message in messages:
        entry = catalog.get(message.msgid, context=message.context)
        if entry is None:
            problems.append(f"{language}: missing {message.msgid!r} ({message.origin})")
    for entry in catalog:
        if not entry.id:
            continue
        ids = [str(text) for text in entry.id] if isinstance(entry.id, tuple | list) else [entry.id]
        strings = (
            [str(text) for text in entry.string]
            if isinstance(entry.string, tuple | list)
            else [str(entry.string or "")]
        )
        if entry.fuzzy or not all(strings):
            problems.append(f"{language}: untranslated {ids[0]!r}")
            continue
        if not all(placeholders_fit(text, ids) for text in strings):
            problems.append(f"{language}: placeholders differ in {ids[0]!r}")
    return problems


def main(argv: list[str]) -> int:
    if argv != ["check"]:
        print("usage: python tools/messages.py check", file=sys.stderr)
        return 2
    messages = source_messages()
    problems = [line for lang in TRANSLATED_LANGUAGES for line in catalog_problems(lang, messages)]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
