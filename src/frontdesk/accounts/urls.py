"""URLs of the accounts pages: sign-in, password reset, settings and Manage (people, teams)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

from frontdesk.accounts import views

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.ResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.ResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.ResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("settings/", views.settings_view, name="settings"),
    path("settings/password/", views.settings_password, name="settings_password"),
    path("settings/tokens/", views.settings_tokens, name="settings_tokens"),
    path(
        "settings/tokens/<int:token_id>/revoke/",
        views.settings_token_revoke,
        name="settings_token_revoke",
    ),
    path("manage/users/", views.manage_users, name="manage_users"),
    path("manage/users/new/", views.manage_user_new, name="manage_user_new"),
    path("manage/users/<int:user_id>/", views.manage_user_edit, name="manage_user"),
    path(
        "manage/users/<int:user_id>/active/",
        views.manage_user_active,
        name="manage_user_active",
    ),
    path("manage/teams/", views.manage_teams, name="manage_teams"),
    path("manage/teams/new/", views.manage_team_new, name="manage_team_new"),
    path("manage/teams/<int:team_id>/", views.manage_team_edit, name="manage_team"),
]
