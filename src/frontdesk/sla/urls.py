"""URLs of the business-hours pages, included under manage/business-hours/."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontdesk.sla import views

app_name = "sla"

urlpatterns: list[URLPattern] = [
    path("", views.calendars, name="calendars"),
    path("new/", views.calendar_new, name="calendar_new"),
    path("<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
]
