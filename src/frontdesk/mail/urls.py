"""URLs of the mailbox pages, included under manage/mailboxes/."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontdesk.mail import views

app_name = "mail"

urlpatterns: list[URLPattern] = [
    path("", views.mailboxes, name="mailboxes"),
    path("new/", views.mailbox_new, name="mailbox_new"),
    path("<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("<int:pk>/test/", views.mailbox_test, name="mailbox_test"),
    path("<int:pk>/active/", views.mailbox_active, name="mailbox_active"),
]
