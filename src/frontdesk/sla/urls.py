"""URLs of the sla pages: business hours and SLA policies under Manage, and At risk."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontdesk.sla import views

app_name = "sla"

urlpatterns: list[URLPattern] = [
    path("manage/business-hours/", views.calendars, name="calendars"),
    path("manage/business-hours/new/", views.calendar_new, name="calendar_new"),
    path("manage/business-hours/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("manage/business-hours/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("manage/sla-policies/", views.policies, name="policies"),
    path("manage/sla-policies/new/", views.policy_new, name="policy_new"),
    path("manage/sla-policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("manage/sla-policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("manage/sla-policies/<int:pk>/move/", views.policy_move, name="policy_move"),
    path("at-risk/", views.at_risk, name="at_risk"),
]
