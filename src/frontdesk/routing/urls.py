"""URLs of the routing pages, included under manage/routing/."""

from __future__ import annotations

from django.urls import URLPattern, path

from frontdesk.routing import views

app_name = "routing"

urlpatterns: list[URLPattern] = [
    path("", views.rules, name="rules"),
    path("new/", views.rule_new, name="rule_new"),
    path("<int:pk>/", views.rule_edit, name="rule_edit"),
    path("<int:pk>/move/", views.rule_move, name="rule_move"),
    path("<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("<int:pk>/dry-run/", views.rule_dry_run, name="rule_dry_run"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
]
