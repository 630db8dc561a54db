"""URLs of the portal pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from frontdesk.portal import views

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("login/link/", views.request_link, name="request_link"),
    path("link/<str:token>/", views.magic_link, name="magic_link"),
    path("logout/", views.sign_out, name="logout"),
    path("signup/", views.sign_up, name="signup"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("language/", views.language, name="language"),
    path("requests/new/", views.new_request, name="new"),
    path("requests/<int:number>/", views.request_detail, name="request"),
    path("requests/<int:number>/thread/", views.thread, name="thread"),
    path("requests/<int:number>/reply/", views.reply, name="reply"),
    path("requests/<int:number>/solve/", views.solve, name="solve"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
