"""URLs of the accounts pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

from frontdesk.core.placeholders import placeholder

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", placeholder("Settings", "settings"), name="settings"),
    path("manage/users/", placeholder("Users", "manage"), name="manage_users"),
]
