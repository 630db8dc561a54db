"""The README's configuration table and command list stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import frontdesk
from frontdesk.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(frontdesk.__file__).resolve().parent
README = ROOT / "README.md"


def variables_read_by_settings() -> set[str]:
    names: set[str] = set()
    for module in (SOURCE / "settings.py", SOURCE / "core" / "config.py"):
        text = module.read_text(encoding="utf-8")
        names |= set(re.findall(r"\"(FRONTDESK_[A-Z0-9_]+)\"", text))
        # env_secret("X") also reads X_FILE.
        names |= {f"{name}_FILE" for name in re.findall(r"env_secret\(\"([A-Z0-9_]+)\"", text)}
    return names


def variables_in_readme_table() -> set[str]:
    text = README.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(FRONTDESK_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_readme_documents_every_setting_and_no_other() -> None:
    assert variables_in_readme_table() == variables_read_by_settings()


def test_readme_lists_every_cli_command() -> None:
    text = README.read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    assert commands is not None
    for name in commands:
        assert f"| `frontdesk {name}" in text, name


def test_readme_points_at_the_api_docs() -> None:
    text = README.read_text(encoding="utf-8")
    assert "/api/v1/docs" in text
    assert "/api/v1/openapi.json" in text
