"""Ordered lists on the Manage pages (triggers, time rules, SLA policies): each row's ↑ and ↓
buttons (core/_move_buttons.html) post `direction`, and the view moves the row one place."""

from __future__ import annotations

from django.http import HttpRequest


def move_step(request: HttpRequest) -> int:
    """-1 for "up" (towards the top, which comes first), +1 for anything else."""
    return -1 if request.POST.get("direction") == "up" else 1
