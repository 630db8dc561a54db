"""URLs of the automation pages: Manage → Automations, and the composer's pickers."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontdesk.automation import views

app_name = "automation"

_M = "manage/automations/"

urlpatterns: list[URLPattern] = [
    path(_M, views.triggers, name="triggers"),
    path(f"{_M}triggers/new/", views.trigger_edit, name="trigger_new"),
    path(f"{_M}triggers/<int:pk>/", views.trigger_edit, name="trigger_edit"),
    path(f"{_M}triggers/<int:pk>/move/", views.trigger_move, name="trigger_move"),
    path(f"{_M}triggers/<int:pk>/delete/", views.trigger_delete, name="trigger_delete"),
    path(f"{_M}triggers/<int:pk>/dry-run/", views.trigger_dry_run, name="trigger_dry_run"),
    path(f"{_M}time-rules/", views.time_rules, name="time_rules"),
    path(f"{_M}time-rules/new/", views.time_rule_edit, name="time_rule_new"),
    path(f"{_M}time-rules/<int:pk>/", views.time_rule_edit, name="time_rule_edit"),
    path(f"{_M}time-rules/<int:pk>/move/", views.time_rule_move, name="time_rule_move"),
    path(f"{_M}time-rules/<int:pk>/delete/", views.time_rule_delete, name="time_rule_delete"),
    path(f"{_M}macros/", views.macros, name="macros"),
    path(f"{_M}macros/new/", views.macro_edit, name="macro_new"),
    path(f"{_M}macros/<int:pk>/", views.macro_edit, name="macro_edit"),
    path(f"{_M}macros/<int:pk>/delete/", views.macro_delete, name="macro_delete"),
    path(f"{_M}canned-replies/", views.canned_replies, name="canned_replies"),
    path(f"{_M}canned-replies/new/", views.canned_reply_edit, name="canned_reply_new"),
    path(f"{_M}canned-replies/<int:pk>/", views.canned_reply_edit, name="canned_reply_edit"),
    path(
        f"{_M}canned-replies/<int:pk>/delete/",
        views.canned_reply_delete,
        name="canned_reply_delete",
    ),
    path(f"{_M}webhooks/", views.webhook_list, name="webhooks"),
    path(f"{_M}webhooks/new/", views.webhook_edit, name="webhook_new"),
    path(f"{_M}webhooks/<int:pk>/", views.webhook_edit, name="webhook_edit"),
    path(f"{_M}webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path("conversations/<int:number>/composer-tools/", views.composer_tools, name="composer_tools"),
    path("conversations/<int:number>/macros/<int:pk>/", views.macro_preview, name="macro_preview"),
    path(
        "conversations/<int:number>/canned-replies/<int:pk>/", views.canned_text, name="canned_text"
    ),
    path("conversations/<int:number>/macro-send/", views.macro_send, name="macro_send"),
]
