"""URLs of the mail pages: mailboxes and quarantine under Manage, and originals of messages."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontdesk.mail import views

app_name = "mail"

urlpatterns: list[URLPattern] = [
    path("manage/mailboxes/", views.mailboxes, name="mailboxes"),
    path("manage/mailboxes/new/", views.mailbox_new, name="mailbox_new"),
    path("manage/mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("manage/mailboxes/<int:pk>/test/", views.mailbox_test, name="mailbox_test"),
    path("manage/mailboxes/<int:pk>/active/", views.mailbox_active, name="mailbox_active"),
    path("manage/quarantine/", views.quarantine, name="quarantine"),
    path("manage/quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("manage/quarantine/<int:pk>/raw/", views.quarantine_raw, name="quarantine_raw"),
    path("manage/quarantine/<int:pk>/retry/", views.quarantine_retry, name="quarantine_retry"),
    path(
        "manage/quarantine/<int:pk>/discard/", views.quarantine_discard, name="quarantine_discard"
    ),
    path("messages/<int:message_id>/original/", views.original, name="original"),
    path(
        "messages/<int:message_id>/original/raw/",
        views.original_download,
        name="original_download",
    ),
]
