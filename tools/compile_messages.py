"""Compile the project's .po translations to .mo with Babel (no GNU gettext needed).

Usage: python tools/compile_messages.py [LOCALE_DIR]
Prints one line per compiled catalogue; exits 1 with one line if a catalogue is broken.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE_DIR = Path(__file__).resolve().parents[1] / "src" / "frontdesk" / "locale"


def compile_catalogue(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    with po_path.open("rb") as source:
        catalog = read_po(source, abort_invalid=True)
    with mo_path.open("wb") as target:
        # Fuzzy entries are guesses, not translations: Django skips them too.
        write_mo(target, catalog, use_fuzzy=False)
    return mo_path


def main(argv: list[str]) -> int:
    locale_dir = Path(argv[0]) if argv else DEFAULT_LOCALE_DIR
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        try:
            compile_catalogue(po_path)
        except Exception as error:  # noqa: BLE001 - one line names the broken file
            print(f"compile_messages: {po_path}: {error}", file=sys.stderr)
            return 1
        print(f"compiled {po_path.relative_to(locale_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
